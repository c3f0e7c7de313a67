"""AWS CDK constructs that share Amazon WorkSpaces custom images with other accounts."""

from cdk_workspaces_image_sharing.image_permission import WorkspaceImagePermission

__all__ = ["WorkspaceImagePermission"]
