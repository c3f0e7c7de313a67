"""AWS CDK constructs that share Amazon WorkSpaces custom images with other accounts."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from cdk_workspaces_image_sharing.organization.reader_role import (
        WorkspaceImageOrganizationReaderRole,
    )
    from cdk_workspaces_image_sharing.organization.share import (
        WorkspaceImageOrganizationShare,
    )
    from cdk_workspaces_image_sharing.pair.lanes import MAX_CONCURRENT_SHARES
    from cdk_workspaces_image_sharing.pair.permission import WorkspaceImagePermission
    from cdk_workspaces_image_sharing.pair.share import WorkspaceImageShare

_EXPORTS = {
    "MAX_CONCURRENT_SHARES": "cdk_workspaces_image_sharing.pair.lanes",
    "WorkspaceImagePermission": "cdk_workspaces_image_sharing.pair.permission",
    "WorkspaceImageShare": "cdk_workspaces_image_sharing.pair.share",
    "WorkspaceImageOrganizationShare": ("cdk_workspaces_image_sharing.organization.share"),
    "WorkspaceImageOrganizationReaderRole": "cdk_workspaces_image_sharing.organization.reader_role",
}
__all__ = [
    "MAX_CONCURRENT_SHARES",
    "WorkspaceImageOrganizationReaderRole",
    "WorkspaceImageOrganizationShare",
    "WorkspaceImagePermission",
    "WorkspaceImageShare",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from cdk_workspaces_image_sharing.version import installed_version

        return installed_version()
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
