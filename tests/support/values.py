"""Values the tests share."""

from __future__ import annotations

EXAMPLE_IMAGE_ID = "wsi-0example0"
EXAMPLE_ACCOUNT_ID = "111122223333"
GRANT = "UpdateWorkspaceImagePermission"
DESCRIBE = "DescribeWorkspaceImagePermissions"


def sample_accounts(count: int) -> list[str]:
    """``count`` distinct, valid account IDs, the same on every call."""
    return [f"{100000000000 + n * 7919:012d}" for n in range(count)]
