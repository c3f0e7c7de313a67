"""A stack sharing one image with a list of accounts (WorkspaceImageShare).

Context: ``imageId``; ``accounts``, comma-separated; ``retain`` = ``true`` for RETAIN.
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_workspaces_image_sharing import WorkspaceImageShare


def build(app: cdk.App) -> cdk.Stack:
    """Add the stack to ``app`` and return it."""
    image_id = str(app.node.try_get_context("imageId") or "wsi-0123456789")
    accounts = str(app.node.try_get_context("accounts") or "111122223333").split(",")
    retain = str(app.node.try_get_context("retain")).lower() == "true"
    stack = cdk.Stack(app, "ImageShare")
    share = WorkspaceImageShare(
        stack,
        "Share",
        image_id=image_id,
        account_ids=accounts,
        removal_policy=cdk.RemovalPolicy.RETAIN if retain else None,
    )
    cdk.CfnOutput(stack, "ImageArn", value=share.image_arn)
    cdk.CfnOutput(stack, "SharedAccountIds", value=share.shared_account_ids_csv)
    return stack


if __name__ == "__main__":
    image_share_app = cdk.App()
    build(image_share_app)
    image_share_app.synth()
