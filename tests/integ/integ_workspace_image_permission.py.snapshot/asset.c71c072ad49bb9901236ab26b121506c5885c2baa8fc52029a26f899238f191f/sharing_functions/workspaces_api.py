"""The WorkSpaces calls a share needs, with retries and errors a stack event can show."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws_plumbing import THROTTLING_CODES, ClientSettings, error_code, shared_accounts
from .image_account_pair import ImageAccountPair

if TYPE_CHECKING:
    from mypy_boto3_workspaces import WorkSpacesClient as WorkSpacesClient
else:
    WorkSpacesClient = Any

logger = logging.getLogger(__name__)

CLIENT_SETTINGS = ClientSettings(max_attempts=6, connect_timeout_seconds=2, read_timeout_seconds=5)
# IAM is eventually consistent: on a first deploy the role's policy is created just before the
# first grant, which may be refused for a few seconds. A grant refused with AccessDenied is
# tried again for this long before the Create fails.
ACCESS_DENIED_RETRY_SECONDS = 30
ACCESS_DENIED_RETRY_INTERVAL_SECONDS = 5
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
    cannot have been changed by it; ``code`` is WorkSpaces' error code ("" when it gave no
    answer).
    """

    def __init__(self, reason: str, *, changed_nothing: bool, code: str = "") -> None:
        super().__init__(reason)
        self.changed_nothing = changed_nothing
        self.code = code


def _error(
    action: str, share: ImageAccountPair, error: ClientError | BotoCoreError
) -> ImagePermissionError:
    if isinstance(error, BotoCoreError):  # no answer: timeouts, refused connections
        return ImagePermissionError(
            f"{action} {share.image_id} with {share.account_id} failed: "
            f"{type(error).__name__} after {CLIENT_SETTINGS.max_attempts} attempts; retry later",
            changed_nothing=False,
        )
    code = error_code(error, "Unknown")
    advice = _ADVICE.get(code)
    if advice is None:
        message = error.response.get("Error", {}).get("Message", "")
        advice = f"{message[:80]} (after {CLIENT_SETTINGS.max_attempts} attempts; retry later)"
    return ImagePermissionError(
        f"{action} {share.image_id} with {share.account_id} failed: {code}: {advice}",
        changed_nothing=code in _ADVICE,
        code=code,
    )


def _set_permission(client: WorkSpacesClient, share: ImageAccountPair, allow: bool) -> None:
    client.update_workspace_image_permission(
        ImageId=share.image_id, AllowCopyImage=allow, SharedAccountId=share.account_id
    )


def grant(
    client: WorkSpacesClient,
    share: ImageAccountPair,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Share the image with the account: one call when WorkSpaces accepts it (its acceptance is
    the confirmation). Sharing twice is harmless. AccessDenied is tried again for
    ``ACCESS_DENIED_RETRY_SECONDS`` (IAM propagation); any other refusal fails at once."""
    deadline = clock() + ACCESS_DENIED_RETRY_SECONDS
    while True:
        try:
            _set_permission(client, share, True)
            return
        except ClientError as error:
            waited_enough = clock() + ACCESS_DENIED_RETRY_INTERVAL_SECONDS > deadline
            if error_code(error, "Unknown") != "AccessDeniedException" or waited_enough:
                raise _error("Sharing", share, error) from error
            logger.warning(
                "sharing %s refused with AccessDenied; the role's policy may still be "
                "propagating: trying again in %s s",
                share.physical_id,
                ACCESS_DENIED_RETRY_INTERVAL_SECONDS,
            )
            sleep(ACCESS_DENIED_RETRY_INTERVAL_SECONDS)
        except BotoCoreError as error:
            raise _error("Sharing", share, error) from error


def revoke(client: WorkSpacesClient, share: ImageAccountPair) -> bool:
    """Stop sharing the image with the account.

    Returns True when the share was revoked or was not there: WorkSpaces refuses to revoke what
    is not shared, so a refusal other than throttling is checked against the image's
    permissions and is a success when the account is not listed. Returns False when the image
    no longer exists. Raises ImagePermissionError otherwise.
    """
    try:
        _set_permission(client, share, False)
    except BotoCoreError as error:
        raise _error("Unsharing", share, error) from error
    except ClientError as error:
        code = error_code(error, "Unknown")
        if code == "ResourceNotFoundException":
            return False
        if code in THROTTLING_CODES:
            raise _error("Unsharing", share, error) from error
        try:
            still_shared = share.account_id in shared_accounts(client, share.image_id)
        except (ClientError, BotoCoreError):
            raise _error("Unsharing", share, error) from error
        if still_shared:
            raise _error("Unsharing", share, error) from error
        logger.info("%s was not shared (WorkSpaces said %s)", share.physical_id, code)
    return True
