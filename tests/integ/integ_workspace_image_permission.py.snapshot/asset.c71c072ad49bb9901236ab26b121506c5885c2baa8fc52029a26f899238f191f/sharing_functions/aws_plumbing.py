"""The AWS plumbing the functions, the drift command and the stand-in share: client settings,
error codes, an image's permissions and a stack's resources, every page read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

# The clients' types, for annotations: boto3-stubs' when type-checking (a development
# dependency), Any at run time.
if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_cloudformation import CloudFormationClient as CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient as DynamoDBClient
    from mypy_boto3_organizations import OrganizationsClient as OrganizationsClient
    from mypy_boto3_workspaces import WorkSpacesClient as WorkSpacesClient
else:
    CloudFormationClient = DynamoDBClient = OrganizationsClient = WorkSpacesClient = Any

# Codes botocore's standard mode retries as throttling: after the last attempt they are a
# failure, never evidence about a share.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
    }
)
# DescribeWorkspaceImagePermissions allows at most 25 a page.
IMAGE_PERMISSIONS_PAGE_SIZE = 25
# Every stack status but DELETE_COMPLETE (ListStacks keeps deleted stacks for 90 days).
LIVE_STACK_STATUSES = (
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
)
# botocore's standard mode sleeps up to min(2**n, this) s before attempt n + 2.
_STANDARD_MODE_MAX_BACKOFF_SECONDS = 20


@dataclass(frozen=True)
class ClientSettings:
    """How a client retries and waits: botocore's standard mode (which backs off on
    throttling), ``max_attempts`` attempts in all, and the two socket timeouts."""

    max_attempts: int
    connect_timeout_seconds: float
    read_timeout_seconds: float

    def config(self) -> Config:
        """The botocore ``Config`` for these settings."""
        from botocore.config import Config  # not at import: the drift command's --help

        return Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
        )

    def worst_case_call_seconds(self) -> float:
        """The longest one call can take, retries included: every attempt waits out both
        timeouts, and standard mode's longest sleep comes between attempts."""
        waits = sum(
            min(2**attempt, _STANDARD_MODE_MAX_BACKOFF_SECONDS)
            for attempt in range(self.max_attempts - 1)
        )
        per_attempt = self.connect_timeout_seconds + self.read_timeout_seconds
        return float(self.max_attempts * per_attempt + waits)


_Client = TypeVar("_Client")


class ClientUnavailable(RuntimeError):
    """A client made on first use could not be made. Not a botocore error: callers that treat
    a failed read as an answer (a stack that cannot be read) do not take it for one."""


class _MadeOnFirstUse:
    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._make()
                except Exception as error:
                    raise ClientUnavailable(f"could not make a client: {error}") from error
        return getattr(self._client, name)


def made_on_first_use(make: Callable[[], _Client]) -> _Client:
    """A client that ``make`` creates on its first use (its first attribute read) rather
    than now, and that is reused after: for a client only some events need, so that the
    cold start of the others does not pay for it. A failure to create it raises
    ClientUnavailable at that use (and the next use tries again)."""
    return cast(_Client, _MadeOnFirstUse(make))


def error_code(error: BaseException, default: str = "") -> str:
    """The AWS error code of a botocore ClientError, or ``default`` for any other error."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", default))
    return default


def shared_accounts(client: WorkSpacesClient, image_id: str) -> frozenset[str]:
    """Every account DescribeWorkspaceImagePermissions lists for the image, all pages read.
    Raises botocore's ClientError (ResourceNotFoundException for an image that does not
    exist)."""
    request: dict[str, Any] = {"ImageId": image_id, "MaxResults": IMAGE_PERMISSIONS_PAGE_SIZE}
    accounts: set[str] = set()
    while True:
        page = client.describe_workspace_image_permissions(**request)
        accounts.update(
            str(permission["SharedAccountId"])
            for permission in page.get("ImagePermissions", [])
            if "SharedAccountId" in permission
        )
        if not page.get("NextToken"):
            return frozenset(accounts)
        request["NextToken"] = page["NextToken"]


def live_stacks(client: CloudFormationClient) -> list[dict[str, Any]]:
    """Every stack of the account and Region that is not deleted (ListStacks, every page),
    nested stacks included, as its summaries."""
    return [
        dict(summary)
        for page in client.get_paginator("list_stacks").paginate(
            StackStatusFilter=list(LIVE_STACK_STATUSES)  # type: ignore[arg-type]
        )
        for summary in page.get("StackSummaries", [])
        if summary.get("StackStatus") != "DELETE_COMPLETE"
    ]


def live_resources(client: CloudFormationClient, stack_ref: str) -> list[dict[str, Any]]:
    """The resources of one stack that hold a physical ID and are not being deleted
    (ListStackResources, every page), as their summaries."""
    return [
        dict(summary)
        for page in client.get_paginator("list_stack_resources").paginate(StackName=stack_ref)
        for summary in page.get("StackResourceSummaries", [])
        if summary.get("PhysicalResourceId")
        and not str(summary.get("ResourceStatus", "")).startswith("DELETE_")
    ]
