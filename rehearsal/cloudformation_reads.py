"""CloudFormation's read API, answered from the stand-in stacks' own state (query protocol, XML).

DescribeStacks, ListStacks, ListStackResources (pages of 100 with NextToken, deleted resources
included while the operation that deleted them runs) and DescribeStackResources (the first 100
resources only, as the service documents). A stack is found by name or by stack ID.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

LIST_PAGE_SIZE = 100
DESCRIBE_RESOURCES_LIMIT = 100
READ_ACTIONS = ("DescribeStacks", "ListStacks", "ListStackResources", "DescribeStackResources")
_NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


@dataclass(frozen=True)
class ResourceRow:
    """A stack resource as ListStackResources shows it."""

    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    timestamp: str


class ReadableStack(Protocol):
    """What a stand-in stack offers to the read API."""

    stack_id: str
    name: str
    status: str
    created: str
    last_updated: str

    def resource_rows(self) -> list[ResourceRow]: ...


class CloudFormationError(Exception):
    """An error the API answers with (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _element(name: str, value: str | None) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else ""


def _resource_xml(stack: ReadableStack, row: ResourceRow, timestamp_name: str) -> str:
    return (
        "<member>"
        + _element("StackName", stack.name)
        + _element("StackId", stack.stack_id)
        + _element("LogicalResourceId", row.logical_id)
        + _element("PhysicalResourceId", row.physical_id)
        + _element("ResourceType", row.resource_type)
        + _element(timestamp_name, row.timestamp)
        + _element("ResourceStatus", row.status)
        + "</member>"
    )


def _stack_xml(stack: ReadableStack, summary: bool) -> str:
    return (
        "<member>"
        + _element("StackName", stack.name)
        + _element("StackId", stack.stack_id)
        + _element("CreationTime", stack.created)
        + _element("LastUpdatedTime", stack.last_updated)
        + _element("StackStatus", stack.status)
        + ("" if summary else "<Outputs/><Parameters/>")
        + "</member>"
    )


def _response(action: str, body: str) -> str:
    return (
        f'<{action}Response xmlns="{_NAMESPACE}"><{action}Result>{body}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def error_xml(code: str, message: str) -> str:
    """The body of a CloudFormation error answer."""
    return (
        f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


class CloudFormationReads:
    """The stacks the stand-in runs, readable through the API."""

    def __init__(self) -> None:
        self._stacks: dict[str, ReadableStack] = {}

    def register(self, stack: ReadableStack) -> None:
        """Make ``stack`` readable (by its ID, and by its name while it is not deleted)."""
        self._stacks[stack.stack_id] = stack

    def stacks(self) -> Iterable[ReadableStack]:
        """Every registered stack."""
        return list(self._stacks.values())

    def _of(self, account: str | None) -> list[ReadableStack]:
        return [
            s
            for s in self._stacks.values()
            if account is None or s.stack_id.split(":")[4] == account
        ]

    def find(self, name_or_id: str, account: str | None = None) -> ReadableStack:
        """A stack (of ``account``, when given) by ID, or by name among the stacks that are not
        deleted."""
        stacks = self._of(account)
        for stack in stacks:
            if stack.stack_id == name_or_id:
                return stack
        for stack in stacks:
            if stack.name == name_or_id and stack.status != "DELETE_COMPLETE":
                return stack
        raise CloudFormationError("ValidationError", f"Stack with id {name_or_id} does not exist")

    def answer(self, action: str, params: dict[str, str], account: str | None = None) -> str:
        """The XML body answering ``action`` for a caller in ``account`` (which sees only its
        own stacks); raises CloudFormationError."""
        if action == "DescribeStacks":
            if params.get("StackName"):
                stacks = [self.find(params["StackName"], account)]
            else:
                stacks = [s for s in self._of(account) if s.status != "DELETE_COMPLETE"]
            members = "".join(_stack_xml(s, summary=False) for s in stacks)
            return _response(action, f"<Stacks>{members}</Stacks>")
        if action == "ListStacks":
            wanted = {v for k, v in params.items() if k.startswith("StackStatusFilter.member.")}
            stacks = [s for s in self._of(account) if not wanted or s.status in wanted]
            members = "".join(_stack_xml(s, summary=True) for s in stacks)
            return _response(action, f"<StackSummaries>{members}</StackSummaries>")
        if action == "ListStackResources":
            stack = self.find(params.get("StackName", ""), account)
            rows = stack.resource_rows()
            start = int(params.get("NextToken") or 0)
            page = rows[start : start + LIST_PAGE_SIZE]
            members = "".join(_resource_xml(stack, r, "LastUpdatedTimestamp") for r in page)
            token = start + LIST_PAGE_SIZE
            more = _element("NextToken", str(token)) if token < len(rows) else ""
            return _response(
                action, f"<StackResourceSummaries>{members}</StackResourceSummaries>{more}"
            )
        if action == "DescribeStackResources":
            stack = self.find(params.get("StackName", ""), account)
            rows = [
                r
                for r in stack.resource_rows()
                if params.get("LogicalResourceId") in (None, r.logical_id)
            ][:DESCRIBE_RESOURCES_LIMIT]
            members = "".join(_resource_xml(stack, r, "Timestamp") for r in rows)
            return _response(action, f"<StackResources>{members}</StackResources>")
        raise CloudFormationError("InvalidAction", f"{action} is not served by the stand-in")
