"""Which other resource of a stack still holds a physical ID, read from CloudFormation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from .aws_plumbing import ClientSettings, CloudFormationClient, live_resources, live_stacks

logger = logging.getLogger(__name__)

CLIENT_SETTINGS = ClientSettings(max_attempts=4, connect_timeout_seconds=2, read_timeout_seconds=5)
# Reading the stack is a safety check: past this, the Delete goes ahead without it.
READ_BUDGET_SECONDS = 60
STACK_GOING_AWAY = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
_CLEANUP_SUFFIX = "_CLEANUP_IN_PROGRESS"


class StackUnreadable(RuntimeError):
    """CloudFormation could not be read (after retries, or within READ_BUDGET_SECONDS)."""


@dataclass(frozen=True)
class _Listing:
    operation: tuple[str, str, str]  # stack ID, status, last update: one stack operation
    holders: dict[str, list[tuple[str, str]]]  # physical ID -> [(logical ID, status)]


# One listing per container, for the cleanup phase of one stack operation.
_cached: _Listing | None = None
# Stacks this container saw being deleted, or rolled back after a failed creation.
_going_away: set[str] = set()


def _describe_stack(client: CloudFormationClient, stack_id: str) -> dict[str, Any]:
    stacks = client.describe_stacks(StackName=stack_id).get("Stacks", [])
    if not stacks:
        raise StackUnreadable(f"DescribeStacks returned no stack for {stack_id}")
    return dict(stacks[0])


def _list(
    client: CloudFormationClient,
    stack_id: str,
    operation: tuple[str, str, str],
    deadline: float,
    clock: Any,
) -> _Listing:
    holders: dict[str, list[tuple[str, str]]] = {}
    request: dict[str, Any] = {"StackName": stack_id}
    while True:
        if clock() > deadline:
            raise StackUnreadable(f"listing {stack_id} took over {READ_BUDGET_SECONDS} s")
        page = client.list_stack_resources(**request)
        for summary in page.get("StackResourceSummaries", []):
            physical_id = summary.get("PhysicalResourceId")
            if physical_id:
                holders.setdefault(str(physical_id), []).append(
                    (str(summary["LogicalResourceId"]), str(summary["ResourceStatus"]))
                )
        if not page.get("NextToken"):
            return _Listing(operation, holders)
        request["NextToken"] = page["NextToken"]


def stack_status(client: CloudFormationClient, stack_id: str) -> str:
    """The stack's status now (DescribeStacks). Raises StackUnreadable when CloudFormation
    cannot be read."""
    try:
        return str(_describe_stack(client, stack_id).get("StackStatus", ""))
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        raise StackUnreadable(f"{type(error).__name__}: {error}") from error


def _live_holder(listing: _Listing, physical_id: str, logical_id: str) -> str | None:
    for holder, status in listing.holders.get(physical_id, []):
        if holder != logical_id and not status.startswith("DELETE_"):
            return holder
    return None


def other_live_holder(
    client: CloudFormationClient,
    stack_id: str,
    logical_id: str,
    physical_id: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """The logical ID of another resource of the stack that holds ``physical_id`` and is not
    being deleted, or None.

    Raises StackUnreadable when CloudFormation cannot be read.
    """
    global _cached
    if stack_id in _going_away:
        return None
    deadline = clock() + READ_BUDGET_SECONDS
    try:
        stack = _describe_stack(client, stack_id)
        status = str(stack.get("StackStatus", ""))
        if status in STACK_GOING_AWAY:
            _going_away.add(stack_id)
            return None
        operation = (stack_id, status, str(stack.get("LastUpdatedTime", "")))
        cleanup = status.endswith(_CLEANUP_SUFFIX)
        listing = _cached if cleanup and _cached and _cached.operation == operation else None
        if listing is None or _live_holder(listing, physical_id, logical_id):
            listing = _list(client, stack_id, operation, deadline, clock)
        _cached = listing if cleanup else None
        return _live_holder(listing, physical_id, logical_id)
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        raise StackUnreadable(f"{type(error).__name__}: {error}") from error


class OtherStacks:
    """Which resource of another live stack of the account and Region declares a physical ID:
    read once, on the first question (ListStacks, then ListStackResources of each), so a run
    with nothing to revoke reads nothing. Only resources of ``resource_type`` count."""

    def __init__(self, client: CloudFormationClient, own_stack_id: str, resource_type: str) -> None:
        self._client = client
        self._own = own_stack_id
        self._type = resource_type
        self._holders: dict[str, str] | None = None

    def holder(self, physical_id: str) -> str | None:
        """``<stack>/<logical ID>`` of a resource of another stack holding ``physical_id``, or
        None. Raises StackUnreadable when CloudFormation cannot be read."""
        if self._holders is None:
            self._holders = self._read()
        return self._holders.get(physical_id)

    def _read(self) -> dict[str, str]:
        holders: dict[str, str] = {}
        try:
            for stack in live_stacks(self._client):
                if stack.get("StackId") == self._own:
                    continue
                name = str(stack["StackName"])
                try:
                    resources = live_resources(self._client, str(stack["StackId"]))
                except ClientError as error:
                    if "does not exist" in str(error):  # deleted since ListStacks
                        continue
                    raise
                for summary in resources:
                    if summary.get("ResourceType") == self._type:
                        physical_id = str(summary["PhysicalResourceId"])
                        holders.setdefault(physical_id, f"{name}/{summary['LogicalResourceId']}")
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            raise StackUnreadable(f"{type(error).__name__}: {error}") from error
        return holders
