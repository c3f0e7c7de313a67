"""Who else holds a physical ID: read from the local CloudFormation API, paged and cached."""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

import pytest

from rehearsal.local_aws import LocalAws
from tests.support.stacks import HandSetStack

PAIR = "wsi-0123456789/111122223333"


@pytest.fixture
def stack_resources(handler_modules: dict[str, ModuleType]) -> ModuleType:
    return handler_modules["stack_holders"]


@pytest.fixture
def client(aws: LocalAws, stack_resources: ModuleType) -> Any:
    return aws.client("cloudformation")


@pytest.fixture
def stack(aws: LocalAws) -> HandSetStack:
    stack = HandSetStack()
    for number in range(250):  # three pages of ListStackResources
        stack.hold(f"Other{number}", f"wsi-0123456789/{200000000000 + number}")
    aws.faults.stacks.register(stack)
    return stack


def holder(stack_resources: ModuleType, client: Any, stack: HandSetStack, me: str) -> Any:
    return stack_resources.other_live_holder(client, stack.stack_id, me, PAIR)


def test_another_live_holder_on_the_last_page_is_found(
    aws: LocalAws, stack_resources: ModuleType, client: Any, stack: HandSetStack
) -> None:
    stack.hold("Renamed", PAIR)
    assert holder(stack_resources, client, stack, "Old") == "Renamed"
    assert aws.faults.calls["ListStackResources"] == 3


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED"])
def test_a_holder_being_deleted_does_not_count(
    stack_resources: ModuleType, client: Any, stack: HandSetStack, status: str
) -> None:
    stack.hold("Removed", PAIR, status)
    assert holder(stack_resources, client, stack, "Old") is None


def test_the_resource_itself_does_not_count(
    stack_resources: ModuleType, client: Any, stack: HandSetStack
) -> None:
    stack.hold("Me", PAIR)
    assert holder(stack_resources, client, stack, "Me") is None


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_a_stack_going_away_is_not_listed(
    aws: LocalAws, stack_resources: ModuleType, client: Any, stack: HandSetStack, status: str
) -> None:
    stack.status = status
    stack.hold("Other", PAIR)
    assert holder(stack_resources, client, stack, "Me") is None
    assert aws.faults.calls["DescribeStacks"] == 1
    assert aws.faults.calls["ListStackResources"] == 0
    # Such a stack is never live again: the container's later Deletes read nothing.
    assert holder(stack_resources, client, stack, "Another") is None
    assert aws.faults.calls["DescribeStacks"] == 1


def test_one_listing_serves_a_cleanup_phase_until_it_names_a_holder(
    aws: LocalAws, stack_resources: ModuleType, client: Any, stack: HandSetStack
) -> None:
    for _ in range(5):
        assert holder(stack_resources, client, stack, "Me") is None
    assert aws.faults.calls["ListStackResources"] == 3  # listed once, in three pages
    assert aws.faults.calls["DescribeStacks"] == 5
    # A cached listing is trusted only to say "nobody else": a holder is always read afresh.
    stack.hold("Other", PAIR)
    stack_resources._cached = stack_resources._Listing(  # type: ignore[attr-defined]
        (stack.stack_id, stack.status, stack.last_updated),
        {PAIR: [("Other", "UPDATE_COMPLETE")]},
    )
    stack.rows[-1] = dataclasses.replace(stack.rows[-1], status="DELETE_IN_PROGRESS")
    assert holder(stack_resources, client, stack, "Me") is None


def test_a_new_operation_is_listed_again(
    aws: LocalAws, stack_resources: ModuleType, client: Any, stack: HandSetStack
) -> None:
    assert holder(stack_resources, client, stack, "Me") is None
    stack.last_updated = "2026-01-01T00:00:02.000Z"
    stack.hold("Other", PAIR)
    assert holder(stack_resources, client, stack, "Me") == "Other"
    assert aws.faults.calls["ListStackResources"] == 6


def test_an_unknown_stack_is_unreadable(stack_resources: ModuleType, client: Any) -> None:
    with pytest.raises(stack_resources.StackUnreadable, match="does not exist"):
        stack_resources.other_live_holder(
            client, "arn:aws:cloudformation:x:1:stack/No/1", "A", PAIR
        )
