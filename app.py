#!/usr/bin/env python3
"""Example app: one stack that shares a WorkSpaces image with one account.

    cdk deploy -c imageId=wsi-0123456789 -c accountId=111122223333

Without context it synthesizes with placeholder values (no AWS credentials needed).
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_workspaces_image_sharing import WorkspaceImagePermission

DEFAULT_IMAGE_ID = "wsi-0123456789"
DEFAULT_ACCOUNT_ID = "111122223333"


def build_app(app: cdk.App) -> cdk.Stack:
    """Add the example stack to ``app`` and return it."""
    image_id = app.node.try_get_context("imageId") or DEFAULT_IMAGE_ID
    account_id = app.node.try_get_context("accountId") or DEFAULT_ACCOUNT_ID
    stack = cdk.Stack(
        app,
        "WorkspaceImageSharingExample",
        description="Shares a WorkSpaces custom image with another account",
    )
    share = WorkspaceImagePermission(
        stack, "ShareImage", image_id=str(image_id), shared_account_id=str(account_id)
    )
    cdk.CfnOutput(stack, "SharedImageId", value=share.image_id)
    cdk.CfnOutput(stack, "SharedAccountId", value=share.shared_account_id)
    return stack


if __name__ == "__main__":
    example = cdk.App()
    build_app(example)
    example.synth()
