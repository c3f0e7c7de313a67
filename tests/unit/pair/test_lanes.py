"""The concurrency lanes never close a dependency cycle with the user's own dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import WorkspaceImagePermission, WorkspaceImageShare
from cdk_workspaces_image_sharing.pair.lanes import MAX_CONCURRENT_SHARES
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from tests.support.values import sample_accounts

ENV = cdk.Environment(account="123456789012", region="us-east-1")
IMAGE = "wsi-aaaaaaaaa"


def depends_on(template: Mapping[str, Any]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for logical_id, resource in template["Resources"].items():
        value = resource.get("DependsOn", [])
        names = {value} if isinstance(value, str) else set(value)
        text = str(resource.get("Properties", {}))
        names |= {other for other in template["Resources"] if f"'{other}'" in text}
        graph[logical_id] = names - {logical_id}
    return graph


def has_cycle(graph: dict[str, set[str]]) -> bool:
    pending = set(graph)
    while pending:
        ready = {n for n in pending if not graph[n] & pending}
        if not ready:
            return True
        pending -= ready
    return False


def lane_pairs(stack: cdk.Stack) -> list[tuple[str, str]]:
    """(later, earlier) pairs of shares that the lanes chain, on a throwaway synth."""
    template = cdk.assertions.Template.from_stack(stack).to_json()
    shares = {lid for lid, r in template["Resources"].items() if r["Type"].startswith("Custom::")}
    return [
        (lid, dep)
        for lid in shares
        for dep in template["Resources"][lid].get("DependsOn", [])
        if dep in shares
    ]


def test_a_user_dependency_against_a_lane_leaves_that_link_out() -> None:
    accounts = sample_accounts(30)
    probe = cdk.Stack(cdk.App(), "Probe", env=ENV)
    WorkspaceImageShare(probe, "Share", image_id=IMAGE, account_ids=accounts)
    later, earlier = lane_pairs(probe)[0]

    stack = cdk.Stack(cdk.App(), "Users", env=ENV)
    share = WorkspaceImageShare(stack, "Share", image_id=IMAGE, account_ids=accounts)
    resolved = {
        stack.resolve(permission.resource.node.default_child.logical_id): permission  # type: ignore[union-attr]
        for permission in share.permissions.values()
    }
    # The user wants the lane's earlier share to wait for the later one.
    resolved[earlier].node.add_dependency(resolved[later])
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert not has_cycle(depends_on(template))
    assert earlier not in template["Resources"][later].get("DependsOn", [])


def test_a_cycle_through_another_resource_is_also_avoided() -> None:
    stack = cdk.Stack(cdk.App(), "Through", env=ENV)
    shares = [
        WorkspaceImagePermission(stack, f"S{n}", image_id=IMAGE, shared_account_id=account)
        for n, account in enumerate(sample_accounts(30))
    ]
    queue = sqs.Queue(stack, "Queue")
    # Every share waits for the queue, and the queue waits for every share: through the queue,
    # any lane link would close a cycle unless left out.
    for share in shares[:15]:
        queue.node.add_dependency(share)
    for share in shares[15:]:
        share.node.add_dependency(queue)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert not has_cycle(depends_on(template))


def test_without_user_dependencies_every_lane_is_a_chain() -> None:
    stack = cdk.Stack(cdk.App(), "Plain", env=ENV)
    WorkspaceImageShare(stack, "Share", image_id=IMAGE, account_ids=sample_accounts(40))
    links = lane_pairs(stack)
    assert len(links) == 40 - MAX_CONCURRENT_SHARES


def test_no_more_shares_than_lanes_need_no_chain() -> None:
    stack = cdk.Stack(cdk.App(), "Few", env=ENV)
    WorkspaceImageShare(
        stack, "Share", image_id=IMAGE, account_ids=sample_accounts(MAX_CONCURRENT_SHARES)
    )
    template = Template.from_stack(stack).to_json()
    shares = [r for r in template["Resources"].values() if r["Type"] == PAIR_RESOURCE_TYPE]
    share_ids = {lid for lid, r in template["Resources"].items() if r["Type"] == PAIR_RESOURCE_TYPE}
    assert len(shares) == MAX_CONCURRENT_SHARES
    assert not any(set(r.get("DependsOn", [])) & share_ids for r in shares)
