"""The ARNs of WorkSpaces images, in the stack's own account and Region (an image can only be
shared by its owner)."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct


def image_arn(scope: Construct, image_id: str) -> str:
    """``arn:<partition>:workspaces:<region>:<account>:workspaceimage/<image_id>`` of
    ``scope``'s stack."""
    return Stack.of(scope).format_arn(
        service="workspaces", resource="workspaceimage", resource_name=image_id
    )


def every_image_arn(scope: Construct) -> str:
    """``arn:<partition>:workspaces:<region>:<account>:workspaceimage/*`` of ``scope``'s
    stack."""
    return image_arn(scope, "*")
