"""The same N shares two ways, for the benchmark: this library, or hand-written
``custom_resources.AwsCustomResource`` calls (grant on create, revoke on delete).

``python -m benchmarks.share_apps construct|aws-custom-resource N OUTDIR`` synthesizes one.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from aws_cdk import custom_resources as cr

from cdk_workspaces_image_sharing import WorkspaceImageShare
from rehearsal.accounts import sample_accounts

IMAGE_ID = "wsi-0benchmark"
MODES = ("construct", "aws-custom-resource")


def _permission_call(account_id: str, allow: bool) -> cr.AwsSdkCall:
    return cr.AwsSdkCall(
        service="WorkSpaces",
        action="updateWorkspaceImagePermission",
        parameters={"ImageId": IMAGE_ID, "AllowCopyImage": allow, "SharedAccountId": account_id},
        physical_resource_id=cr.PhysicalResourceId.of(f"{IMAGE_ID}/{account_id}"),
    )


def build(app: cdk.App, mode: str, count: int) -> cdk.Stack:
    """A stack sharing IMAGE_ID with ``count`` accounts the way ``mode`` says."""
    stack = cdk.Stack(
        app, "Shares", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    if mode == "construct":
        WorkspaceImageShare(stack, "Share", image_id=IMAGE_ID, account_ids=sample_accounts(count))
        return stack
    image_arn = stack.format_arn(
        service="workspaces", resource="workspaceimage", resource_name=IMAGE_ID
    )
    for account_id in sample_accounts(count):
        cr.AwsCustomResource(
            stack,
            f"Share{account_id}",
            on_create=_permission_call(account_id, True),
            on_delete=_permission_call(account_id, False),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[image_arn]),
            install_latest_aws_sdk=False,
        )
    return stack


if __name__ == "__main__":
    mode_arg, count_arg, outdir_arg = sys.argv[1:4]
    benchmark_app = cdk.App(outdir=outdir_arg, context={"aws:cdk:enable-asset-metadata": True})
    build(benchmark_app, mode_arg, int(count_arg))
    benchmark_app.synth()
