"""The organization share end to end through the stand-in: the example app's reader role stack
in the management account, its sharing stack in the image account, both functions in
Lambda-like containers on the runtime's SDK and the virtual clock, the hourly rule fired by the
stand-in's EventBridge, Organizations answering with ``State`` only, STS evaluating the reader
role's trust policy, IAM deciding every call.

Every stack operation and every stretch of schedules ends with the invariant check
(``rehearsal.invariant``). The one marked ``long`` (hundreds of accounts) runs in CI
(``.ci/run``), not in ``scripts/test``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImageOrganizationShare
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATION_RESOURCE_TYPE as SHARE_TYPE,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    ABANDONED_AFTER_SECONDS,
)
from examples.organization_share_app import READER_ROLE_NAME
from rehearsal.assembly import StackTemplate
from rehearsal.faults import Fault, Overlap
from rehearsal.organization import MANAGEMENT_ACCOUNT_ID
from rehearsal.organization_stacks import SHARING_STACK
from rehearsal.scenario import RehearsalError
from rehearsal.stack_engine import CLEANUP_DELETE_ATTEMPTS, StackEngine
from tests.support.apps import STACK_NAME, synth
from tests.support.organization_scene import Scene
from tests.support.values import DESCRIBE, EXAMPLE_ACCOUNT_ID, EXAMPLE_IMAGE_ID, GRANT

HOUR = 3600.0
REVOKE = '"AllowCopyImage": false'
LEDGER_WRITES = ("TransactWriteItems", "UpdateItem", "DeleteItem", "PutItem")
READER_ROLE_ARN = f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/{READER_ROLE_NAME}"


def _refuse_grants(
    scene: Scene, code: str, contains: str, while_: Callable[[], bool] | None = None
) -> None:
    """WorkSpaces refuses, with ``code``, every call whose body holds ``contains``."""
    fault = Fault(GRANT, "error", 1_000, code, body_contains=contains, applies_while=while_)
    scene.run.aws.faults.inject(fault)


def test_the_readme_lifecycle_on_nested_ous(scene: Scene) -> None:
    sharing = scene.deployed([scene.workloads])
    expected = scene.active("Workloads", "Workloads/Prod")
    assert scene.shared() == expected

    (joined,) = scene.organization.add_accounts("Workloads/Prod", 1)
    leaving, closed = scene.made["Workloads"][0], scene.made["Workloads/Prod"][1]
    scene.organization.move(leaving, "Workloads", "Sandbox")
    scene.organization.close(closed)
    assert scene.run.advance(HOUR) == 1
    assert scene.shared() == expected - {leaving, closed} | {joined}

    assert sharing.delete()
    assert scene.shared() == set()


def test_the_sharing_stack_deployed_before_its_reader_role_fails_and_says_so(
    scene: Scene,
) -> None:
    sharing = scene.run.stack(SHARING_STACK)
    template = scene.app.sharing_for(scene.image_id, [scene.workloads])
    assert not sharing.deploy(template)
    assert sharing.status == "ROLLBACK_COMPLETE"
    reason = sharing.steps[0].response.reason
    assert "deploy WorkspaceImageOrganizationReaderRole first" in reason, reason
    assert scene.shared() == set()

    scene.deploy_reader()
    assert sharing.deploy(template)
    assert scene.shared() == scene.active("Workloads", "Workloads/Prod")


def test_one_account_workspaces_refuses_is_reported_and_retried_by_the_schedule(
    scene: Scene,
) -> None:
    refused, other = scene.made["Sandbox"]
    _refuse_grants(scene, "OperationNotSupportedException", f'"SharedAccountId": "{refused}"')
    scene.deployed([scene.sandbox])
    assert scene.shared() == {other}
    scene.run.advance(HOUR)
    assert scene.shared() == {other}
    scene.run.aws.faults.clear()  # the account enables BYOL
    scene.run.advance(HOUR)
    assert scene.shared() == {refused, other}


def test_update_to_another_ou_then_a_rollback_after_the_old_ou_emptied(scene: Scene) -> None:
    sandbox_accounts = set(scene.made["Sandbox"])
    sharing = scene.deployed([scene.workloads])
    assert sharing.deploy(scene.app.sharing_for(scene.image_id, [scene.sandbox]))
    assert scene.shared() == sandbox_accounts

    for account in sandbox_accounts:  # every account of the OU the rollback returns to leaves
        scene.organization.move(account, "Sandbox", "Workloads")
    rolled_back = sharing.deploy(
        scene.app.sharing_for(scene.image_id, [scene.workloads]), another_resource_fails=True
    )
    assert not rolled_back and sharing.status == "UPDATE_ROLLBACK_COMPLETE"
    # The Update back succeeds on an OU with no active account, and revokes nothing (no
    # Update does); scheduled runs fail closed on it (reported as Failed) until it has one.
    assert scene.shared() == sandbox_accounts
    scene.run.advance(HOUR)
    assert scene.shared() == sandbox_accounts
    (joined,) = scene.organization.add_accounts("Sandbox", 1)
    scene.run.advance(HOUR)
    assert scene.shared() == {joined}


def test_an_ou_that_no_longer_exists_fails_closed_and_never_fails_a_rollback(
    scene: Scene,
) -> None:
    sandbox_accounts = set(scene.made["Sandbox"])
    sharing = scene.deployed([scene.sandbox])
    for account in sandbox_accounts:
        scene.organization.move(account, "Sandbox", "Workloads")
    gone = scene.sandbox
    scene.organization.delete_ou("Sandbox")
    scene.run.advance(HOUR)  # ParentNotFoundException: fails closed, revokes nothing
    assert scene.shared() == sandbox_accounts
    assert "ParentNotFoundException" in scene.run.lambda_service.deliveries[-1].invocation.log

    assert not sharing.deploy(scene.app.sharing_for(scene.image_id, [gone, scene.workloads]))
    assert "ParentNotFoundException" in sharing.steps[-2].response.reason
    rolled_back = sharing.deploy(
        scene.app.sharing_for(scene.image_id, [scene.workloads]), another_resource_fails=True
    )
    assert not rolled_back and sharing.status == "UPDATE_ROLLBACK_COMPLETE"  # back to gone
    assert scene.shared() == sandbox_accounts


def test_a_cleanup_delete_given_up_on_is_released_by_a_later_scheduled_run(scene: Scene) -> None:
    sharing = scene.deployed([scene.sandbox])
    _refuse_grants(
        scene,
        "ResourceUnavailableException",
        REVOKE,
        lambda: sharing.status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    )
    assert sharing.deploy(scene.app.sharing_for(scene.image_id, [scene.workloads]))
    assert len(sharing.failed_cleanup) == CLEANUP_DELETE_ATTEMPTS and sharing.abandoned
    workloads_accounts = scene.active("Workloads", "Workloads/Prod")
    assert scene.shared() == workloads_accounts | set(scene.made["Sandbox"])

    scene.run.advance(ABANDONED_AFTER_SECONDS + HOUR)
    assert scene.shared() == workloads_accounts
    assert sharing.delete()
    assert scene.shared() == set()


def test_a_late_duplicate_of_the_old_configurations_create_does_not_revive_it(
    scene: Scene,
) -> None:
    service = scene.run.lambda_service
    service.late_duplicate = lambda event: event.get("ResourceType") == SHARE_TYPE
    sharing = scene.deployed([scene.sandbox])
    service.late_duplicate = None
    assert sharing.deploy(scene.app.sharing_for(scene.image_id, [scene.workloads]))
    workloads_accounts = scene.active("Workloads", "Workloads/Prod")
    assert scene.shared() == workloads_accounts

    scene.run.advance(HOUR)  # the Sandbox configuration's Create arrives again, then the rule
    late = [d for d in service.deliveries if d.kind == "late duplicate"]
    assert [d.request_type for d in late] == ["Create"]
    assert scene.shared() == workloads_accounts


@pytest.mark.long
def test_600_extra_accounts_and_a_delete_that_runs_out_of_time_then_retried(
    scene: Scene,
) -> None:
    everyone = set(scene.organization.add_accounts("Sandbox", 600)) | set(scene.made["Sandbox"])
    sharing = scene.deployed([scene.sandbox])
    assert scene.shared() == everyone
    assert scene.run.advance(HOUR) == 1
    assert "602 accounts in scope" in scene.run.lambda_service.deliveries[-1].invocation.log

    # Every WorkSpaces and ledger call throttled once costs botocore's back-off on the virtual
    # clock (within its retry quota): the 900 s Timeout runs out part way.
    for target in (GRANT, *LEDGER_WRITES):
        scene.run.aws.faults.throttle_each(target, 1)
    assert not sharing.delete()
    assert sharing.status == "DELETE_FAILED"
    assert "stopped after" in sharing.steps[-1].response.reason
    left = scene.shared()
    assert left and left < everyone
    while sharing.status == "DELETE_FAILED" and len(sharing.steps) < 6:
        sharing.delete()  # the user deletes the stack again
    assert sharing.status == "DELETE_COMPLETE"
    assert scene.shared() == set()


def test_a_share_another_stack_declares_stays_when_the_account_leaves(
    scene: Scene, example_stack: StackTemplate
) -> None:
    sharing = scene.deployed([scene.sandbox])
    declared = scene.made["Sandbox"][0]
    pair_stack = scene.run.stack("PairShare")
    assert pair_stack.deploy(
        example_stack.with_values({EXAMPLE_IMAGE_ID: scene.image_id, EXAMPLE_ACCOUNT_ID: declared})
    )
    scene.organization.move(declared, "Sandbox", "Workloads")
    scene.run.advance(HOUR)
    assert scene.shared() == set(scene.made["Sandbox"])
    assert sharing.delete()
    assert scene.shared() == {declared}


def test_organizations_empty_pages_throttling_and_a_failed_read(scene: Scene) -> None:
    faults = scene.run.aws.faults
    faults.empty_pages(3)
    faults.inject(
        Fault("ListAccountsForParent", "error", times=2, error_code="TooManyRequestsException")
    )
    scene.deployed([scene.workloads])
    expected = scene.active("Workloads", "Workloads/Prod")
    assert scene.shared() == expected

    leaving = scene.made["Workloads"][0]
    scene.organization.move(leaving, "Workloads", "Sandbox")
    faults.inject(
        Fault("ListAccountsForParent", "error", times=1_000, error_code="ServiceException")
    )
    scene.run.advance(HOUR)  # fails closed: nothing revoked
    assert scene.shared() == expected
    faults.clear()
    scene.run.advance(HOUR)
    assert scene.shared() == expected - {leaving}


def test_the_share_in_a_nested_stack(scene: Scene, tmp_path: Path) -> None:
    def declare(stack: cdk.Stack) -> None:
        WorkspaceImageOrganizationShare(
            cdk.NestedStack(stack, "Sharing"),
            "Workloads",
            image_id=scene.image_id,
            organizational_unit_ids=[scene.workloads],
            organizations_role_arn=READER_ROLE_ARN,
        )

    scene.deploy_reader()
    parent = scene.run.stack(STACK_NAME)
    assert parent.deploy(synth(tmp_path, declare)), [s.describe() for s in parent.steps]
    (nested,) = parent.nested.values()
    assert nested.status == "CREATE_COMPLETE"
    expected = scene.active("Workloads", "Workloads/Prod")
    assert scene.shared() == expected

    leaving = scene.made["Workloads"][0]
    scene.organization.move(leaving, "Workloads", "Sandbox")
    assert scene.run.advance(HOUR) == 1
    assert scene.shared() == expected - {leaving}
    assert parent.delete() and nested.status == "DELETE_COMPLETE"
    assert scene.shared() == set()


def _two_shares(scene: Scene, tmp_path: Path) -> StackEngine:
    """One stack whose two organization shares of the image (Workloads, Sandbox) share its
    function and ledger."""

    def declare(stack: cdk.Stack) -> None:
        for construct_id, parent in (("AWorkloads", scene.workloads), ("BSandbox", scene.sandbox)):
            WorkspaceImageOrganizationShare(
                stack,
                construct_id,
                image_id=scene.image_id,
                organizational_unit_ids=[parent],
                organizations_role_arn=READER_ROLE_ARN,
            )

    scene.deploy_reader()
    stack = scene.run.stack(STACK_NAME)
    assert stack.deploy(synth(tmp_path, declare)), [s.describe() for s in stack.steps]
    return stack


def _rule(stack: StackEngine, construct_id: str) -> str:
    (rule,) = (
        r.logical_id
        for r in stack.resources.values()
        if r.resource_type == "AWS::Events::Rule" and r.logical_id.startswith(construct_id)
    )
    return rule


def test_a_revoke_by_an_overlapping_run_after_the_read_does_not_hide_a_wanted_account(
    scene: Scene, tmp_path: Path
) -> None:
    stack = _two_shares(scene, tmp_path)
    mover = scene.made["Sandbox"][0]
    scene.organization.move(mover, "Sandbox", "Workloads")  # now AWorkloads's, not BSandbox's
    # AWorkloads's run (its rule fires first) reads the image's permissions; before the answer
    # reaches it, BSandbox's run revokes the account that left its OU.
    scene.run.aws.faults.overlap(
        Overlap(DESCRIBE, lambda: stack.fire_rule(_rule(stack, "BSandbox")))
    )
    scene.run.advance(HOUR)
    assert mover in scene.shared()


def test_a_revoke_landing_after_an_overlapping_want_is_granted_back(
    scene: Scene, tmp_path: Path
) -> None:
    stack = _two_shares(scene, tmp_path)
    mover = scene.made["Sandbox"][0]
    scene.organization.move(mover, "Sandbox", "Workloads")
    # BSandbox's run revokes the account that left its OU; before the revoke reaches
    # WorkSpaces, AWorkloads's run wants it (and finds it still listed).
    scene.run.aws.faults.overlap(
        Overlap(
            GRANT,
            lambda: stack.fire_rule(_rule(stack, "AWorkloads")),
            body_contains=f'{REVOKE}, "SharedAccountId": "{mover}"',
            before=True,
        )
    )
    stack.fire_rule(_rule(stack, "BSandbox"))
    scene.run.check("after the two overlapping runs")
    assert mover in scene.shared()


def test_ledger_conflicts_and_throttling_are_retried_and_a_schedule_that_cannot_run_is_caught(
    scene: Scene,
) -> None:
    faults = scene.run.aws.faults
    faults.inject(
        Fault(
            "TransactWriteItems",
            "error",
            times=2,
            error_code="TransactionCanceledException",
            cancellation_reasons=("TransactionConflict", "None"),
        ),
        Fault("GetItem", "throttle", times=3),
    )
    sharing = scene.deployed([scene.workloads])
    assert scene.shared() == scene.active("Workloads", "Workloads/Prod")
    assert faults.throttled["GetItem"] == 3

    permissions = [
        r for r in sharing.resources.values() if r.resource_type == "AWS::Lambda::Permission"
    ]
    for permission in permissions:  # as if the permission were gone: EventBridge cannot invoke
        permission.status = "DELETE_COMPLETE"
    scene.organization.move(scene.made["Workloads"][0], "Workloads", "Sandbox")
    # No run will revoke the account that left: the invariant says so.
    with pytest.raises(RehearsalError, match="which no live declaration wants"):
        scene.run.advance(HOUR)
    assert [d.request_type for d in scene.run.lambda_service.deliveries][-1] == "Create"
