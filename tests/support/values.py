"""Values the tests share."""

from __future__ import annotations

from cdk_workspaces_image_sharing.pair.function import FUNCTION_TIMEOUT
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    DESCRIBE_PERMISSIONS,
    GRANT_OR_REVOKE,
)
from rehearsal.accounts import sample_accounts as sample_accounts  # the tests' values

EXAMPLE_IMAGE_ID = "wsi-0example0"
EXAMPLE_ACCOUNT_ID = "111122223333"
# The WorkSpaces operations, as the stand-in counts them and faults target them.
GRANT = GRANT_OR_REVOKE
DESCRIBE = DESCRIBE_PERMISSIONS
# Two images and three shares of them, for templates that hold more than one share.
IMAGE_A = "wsi-aaaaaaaaa"
IMAGE_B = "wsi-bbbbbbbbb"
SHARES = ((IMAGE_A, "111122223333"), (IMAGE_A, "444455556666"), (IMAGE_B, "111122223333"))
# The function's Timeout, for handler runs outside the stand-in.
FUNCTION_TIMEOUT_SECONDS = FUNCTION_TIMEOUT.to_seconds()
