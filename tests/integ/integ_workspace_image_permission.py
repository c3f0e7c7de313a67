"""Integration test for a real account, run by integ-runner (CONTRIBUTING.md, "Real accounts").

Deploys a share of ``INTEG_IMAGE_ID`` with ``INTEG_SHARED_ACCOUNT_ID``, asserts with an
AwsApiCall that DescribeWorkspaceImagePermissions lists the account, then destroys the stack
(which revokes the share). Without the variables it synthesizes with placeholders, as CI does.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from cdk_workspaces_image_sharing import WorkspaceImagePermission

PLACEHOLDER_IMAGE_ID = "wsi-0integ000"
PLACEHOLDER_ACCOUNT_ID = "111122223333"


def build(app: cdk.App) -> integ.IntegTest:
    """The stack under test and its assertion, added to ``app``."""
    image_id = os.environ.get("INTEG_IMAGE_ID", PLACEHOLDER_IMAGE_ID)
    account_id = os.environ.get("INTEG_SHARED_ACCOUNT_ID", PLACEHOLDER_ACCOUNT_ID)
    stack = cdk.Stack(app, "WorkspaceImagePermissionInteg")
    WorkspaceImagePermission(stack, "Share", image_id=image_id, shared_account_id=account_id)
    # diff_assets: the functions' code is what the test deploys, so a change to it changes the
    # snapshot, and the copy in the snapshot is always the current one.
    test = integ.IntegTest(
        app, "WorkspaceImagePermissionTest", test_cases=[stack], diff_assets=True
    )
    described = test.assertions.aws_api_call(
        "WorkSpaces", "describeWorkspaceImagePermissions", {"ImageId": image_id}
    )
    described.expect(
        integ.ExpectedResult.object_like(
            {"ImagePermissions": integ.Match.array_with([{"SharedAccountId": account_id}])}
        )
    )
    return test


if __name__ == "__main__":
    integ_app = cdk.App()
    build(integ_app)
    integ_app.synth()
