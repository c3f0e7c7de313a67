"""The two WorkSpaces calls a share needs, with retries and errors a stack event can show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from share import Share

if TYPE_CHECKING:
    from mypy_boto3_workspaces import WorkSpacesClient as WorkSpacesClient
else:
    WorkSpacesClient = Any

# Worst case of one call: every attempt waits out both timeouts, and botocore's standard mode
# sleeps up to min(2**n, 20) s between attempts. See worst_case_call_seconds().
MAX_ATTEMPTS = 6
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
_STANDARD_MODE_MAX_BACKOFF_SECONDS = 20
PAGE_SIZE = 25  # DescribeWorkspaceImagePermissions allows at most 25.

# Codes with which WorkSpaces refuses a request outright: the refused call changed nothing.
_ADVICE = {
    "ResourceNotFoundException": "no such image in this account and Region; check ImageId",
    "ResourceUnavailableException": "the image is not AVAILABLE yet; retry once it is",
    "AccessDeniedException": (
        "the function's role may not change this image's permissions; check its IAM policy"
    ),
    "InvalidParameterValuesException": "WorkSpaces rejected ImageId or SharedAccountId",
    "OperationNotSupportedException": (
        "this image cannot be shared with that account (BYOL images need a BYOL-enabled "
        "account in the same organization)"
    ),
    "ValidationException": "WorkSpaces rejected ImageId or SharedAccountId",
}


class ImagePermissionError(RuntimeError):
    """A WorkSpaces call failed. ``str()`` is a short Reason for CloudFormation.

    ``changed_nothing`` is True when WorkSpaces refused the request outright, so the share
    cannot have been changed by it.
    """

    def __init__(self, reason: str, *, changed_nothing: bool) -> None:
        super().__init__(reason)
        self.changed_nothing = changed_nothing


def client_config() -> Config:
    """botocore settings for WorkSpaces: standard retries (which back off on throttling)."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )


def worst_case_call_seconds() -> float:
    """Longest one WorkSpaces call can take with client_config(), retries included."""
    waits = sum(
        min(2**attempt, _STANDARD_MODE_MAX_BACKOFF_SECONDS) for attempt in range(MAX_ATTEMPTS - 1)
    )
    return float(MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + waits)


def _error(action: str, share: Share, error: ClientError | BotoCoreError) -> ImagePermissionError:
    if isinstance(error, BotoCoreError):  # no answer: timeouts, refused connections
        return ImagePermissionError(
            f"{action} {share.image_id} with {share.account_id} failed: "
            f"{type(error).__name__} after {MAX_ATTEMPTS} attempts; retry later",
            changed_nothing=False,
        )
    code = error.response.get("Error", {}).get("Code", "Unknown")
    advice = _ADVICE.get(code)
    if advice is None:
        message = error.response.get("Error", {}).get("Message", "")
        advice = f"{message[:80]} (after {MAX_ATTEMPTS} attempts; retry later)"
    return ImagePermissionError(
        f"{action} {share.image_id} with {share.account_id} failed: {code}: {advice}",
        changed_nothing=code in _ADVICE,
    )


def grant(client: WorkSpacesClient, share: Share) -> None:
    """Share the image with the account. Sharing twice is harmless."""
    try:
        client.update_workspace_image_permission(
            ImageId=share.image_id, AllowCopyImage=True, SharedAccountId=share.account_id
        )
    except (ClientError, BotoCoreError) as error:
        raise _error("Sharing", share, error) from error


def revoke(client: WorkSpacesClient, share: Share) -> bool:
    """Stop sharing the image with the account.

    Returns False when the image no longer exists (nothing left to revoke); True otherwise,
    including when the account had no share.
    """
    try:
        client.update_workspace_image_permission(
            ImageId=share.image_id, AllowCopyImage=False, SharedAccountId=share.account_id
        )
    except BotoCoreError as error:
        raise _error("Unsharing", share, error) from error
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise _error("Unsharing", share, error) from error
    return True


def is_shared(client: WorkSpacesClient, share: Share) -> bool:
    """Whether DescribeWorkspaceImagePermissions lists the account, reading page by page."""
    request: dict[str, Any] = {"ImageId": share.image_id, "MaxResults": PAGE_SIZE}
    try:
        while True:
            page = client.describe_workspace_image_permissions(**request)
            if any(
                permission.get("SharedAccountId") == share.account_id
                for permission in page.get("ImagePermissions", [])
            ):
                return True
            if not page.get("NextToken"):
                return False
            request["NextToken"] = page["NextToken"]
    except (ClientError, BotoCoreError) as error:
        raise _error("Confirming share of", share, error) from error
