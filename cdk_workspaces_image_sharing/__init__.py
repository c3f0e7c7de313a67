"""AWS CDK constructs that share Amazon WorkSpaces custom images with other accounts."""

from cdk_workspaces_image_sharing.concurrency import MAX_CONCURRENT_SHARES
from cdk_workspaces_image_sharing.image_permission import WorkspaceImagePermission
from cdk_workspaces_image_sharing.image_share import WorkspaceImageShare

__all__ = ["MAX_CONCURRENT_SHARES", "WorkspaceImagePermission", "WorkspaceImageShare"]
