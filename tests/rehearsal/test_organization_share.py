"""The organization share end to end through the stand-in: the example app's reader role stack
in the management account, its sharing stack in the image account, both functions in
Lambda-like containers on the runtime's SDK and the virtual clock, the hourly rule fired by the
stand-in's EventBridge, Organizations answering with ``State`` only, STS evaluating the reader
role's trust policy, IAM deciding every call.

Every stack operation and every stretch of schedules ends with the invariant check
(``rehearsal.invariant``). Scenarios marked ``long`` run in CI (``.ci/run``), not in
``scripts/test``.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImageOrganizationShare
from cdk_workspaces_image_sharing.handler.organization_share import ABANDONED_AFTER_SECONDS
from cdk_workspaces_image_sharing.handler.organization_share import RESOURCE_TYPE as SHARE_TYPE
from examples.organization_share_app import READER_ROLE_NAME
from rehearsal.assembly import StackTemplate
from rehearsal.faults import Fault
from rehearsal.local_aws import ACCOUNT_ID, shared_accounts
from rehearsal.organization import MANAGEMENT_ACCOUNT_ID, Organization
from rehearsal.organization_stacks import OrganizationApp
from rehearsal.scenario import Rehearsal
from rehearsal.stack_engine import CLEANUP_DELETE_ATTEMPTS, StackEngine
from tests.support.apps import STACK_NAME, synth
from tests.support.values import EXAMPLE_ACCOUNT_ID, EXAMPLE_IMAGE_ID, GRANT

HOUR = 3600.0
LAYOUT = {"Workloads": 2, "Workloads/Prod": 3, "Sandbox": 2}
REVOKE = '"AllowCopyImage": false'
LEDGER_WRITES = ("TransactWriteItems", "UpdateItem", "DeleteItem", "PutItem")


def _organization(run: Rehearsal) -> tuple[Organization, dict[str, list[str]]]:
    """Nested OUs with one closed account and the image owner inside."""
    organization = run.organization
    assert organization is not None
    made = organization.populate(LAYOUT)
    organization.add_existing_account(ACCOUNT_ID, "Workloads/Prod")
    organization.close(made["Workloads/Prod"][0])
    return organization, made


def _active(made: dict[str, list[str]], *paths: str) -> set[str]:
    accounts = {a for path in paths for a in made[path]}
    return accounts - {made["Workloads/Prod"][0]}


def _deployed(run: Rehearsal, app: OrganizationApp, image: str, parents: list[str]) -> StackEngine:
    reader = run.stack("OrganizationReader", MANAGEMENT_ACCOUNT_ID)
    assert reader.deploy(app.reader)
    sharing = run.stack("ImageSharing")
    assert sharing.deploy(app.sharing_for(image, parents)), [s.describe() for s in sharing.steps]
    return sharing


def test_the_readme_lifecycle_on_nested_ous(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    sharing = _deployed(run, organization_app, image_id, [organization.ou_ids["Workloads"]])
    expected = _active(made, "Workloads", "Workloads/Prod")
    assert shared_accounts(run.aws, image_id) == expected

    (joined,) = organization.add_accounts("Workloads/Prod", 1)
    leaving = made["Workloads"][0]
    organization.move(leaving, "Workloads", "Sandbox")
    closed = made["Workloads/Prod"][1]
    organization.close(closed)
    assert run.advance(HOUR) == 1
    assert shared_accounts(run.aws, image_id) == expected - {leaving, closed} | {joined}

    assert sharing.delete()
    assert shared_accounts(run.aws, image_id) == set()


def test_the_sharing_stack_deployed_before_its_reader_role_fails_and_says_so(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    sharing = run.stack("ImageSharing")
    template = organization_app.sharing_for(image_id, [organization.ou_ids["Workloads"]])
    assert not sharing.deploy(template)
    assert sharing.status == "ROLLBACK_COMPLETE"
    reason = sharing.steps[0].response.reason
    assert "deploy WorkspaceImageOrganizationReaderRole first" in reason, reason
    assert shared_accounts(run.aws, image_id) == set()

    assert run.stack("OrganizationReader", MANAGEMENT_ACCOUNT_ID).deploy(organization_app.reader)
    assert sharing.deploy(template)
    assert shared_accounts(run.aws, image_id) == _active(made, "Workloads", "Workloads/Prod")


def test_one_account_workspaces_refuses_is_reported_and_retried_by_the_schedule(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    refused = made["Sandbox"][0]
    run.aws.faults.inject(
        Fault(
            GRANT,
            "error",
            times=1_000,
            error_code="OperationNotSupportedException",
            body_contains=f'"SharedAccountId": "{refused}"',
        )
    )
    _deployed(run, organization_app, image_id, [organization.ou_ids["Sandbox"]])
    assert shared_accounts(run.aws, image_id) == {made["Sandbox"][1]}
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == {made["Sandbox"][1]}
    run.aws.faults.clear()  # the account enables BYOL
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == set(made["Sandbox"])


@pytest.mark.long
def test_update_to_another_ou_then_a_rollback_after_the_old_ou_emptied(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    workloads, sandbox = organization.ou_ids["Workloads"], organization.ou_ids["Sandbox"]
    sharing = _deployed(run, organization_app, image_id, [workloads])
    assert sharing.deploy(organization_app.sharing_for(image_id, [sandbox]))
    assert shared_accounts(run.aws, image_id) == set(made["Sandbox"])

    for account in made["Sandbox"]:  # every account of the OU the rollback returns to leaves
        organization.move(account, "Sandbox", "Workloads")
    rolled_back = sharing.deploy(
        organization_app.sharing_for(image_id, [workloads]), another_resource_fails=True
    )
    assert not rolled_back and sharing.status == "UPDATE_ROLLBACK_COMPLETE"
    # The Update back succeeds on an OU with no active account, and revokes nothing (no
    # Update does); scheduled runs fail closed on it (reported as Failed) until it has one.
    assert shared_accounts(run.aws, image_id) == set(made["Sandbox"])
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == set(made["Sandbox"])
    (joined,) = organization.add_accounts("Sandbox", 1)
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == {joined}


@pytest.mark.long
def test_a_cleanup_delete_given_up_on_is_released_by_a_later_scheduled_run(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    workloads, sandbox = organization.ou_ids["Workloads"], organization.ou_ids["Sandbox"]
    sharing = _deployed(run, organization_app, image_id, [sandbox])
    run.aws.faults.inject(
        Fault(
            GRANT,
            "error",
            times=1_000,
            error_code="ResourceUnavailableException",
            body_contains=REVOKE,
            applies_while=lambda: sharing.status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        )
    )
    assert sharing.deploy(organization_app.sharing_for(image_id, [workloads]))
    assert len(sharing.failed_cleanup) == CLEANUP_DELETE_ATTEMPTS and sharing.abandoned
    workloads_accounts = _active(made, "Workloads", "Workloads/Prod")
    assert shared_accounts(run.aws, image_id) == workloads_accounts | set(made["Sandbox"])

    run.advance(ABANDONED_AFTER_SECONDS + HOUR)
    assert shared_accounts(run.aws, image_id) == workloads_accounts
    assert sharing.delete()
    assert shared_accounts(run.aws, image_id) == set()


@pytest.mark.long
def test_a_late_duplicate_of_the_old_configurations_create_does_not_revive_it(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    workloads, sandbox = organization.ou_ids["Workloads"], organization.ou_ids["Sandbox"]
    run.lambda_service.late_duplicate = lambda event: event.get("ResourceType") == SHARE_TYPE
    sharing = _deployed(run, organization_app, image_id, [sandbox])
    run.lambda_service.late_duplicate = None
    assert sharing.deploy(organization_app.sharing_for(image_id, [workloads]))
    workloads_accounts = _active(made, "Workloads", "Workloads/Prod")
    assert shared_accounts(run.aws, image_id) == workloads_accounts

    run.advance(HOUR)  # the Create of the Sandbox configuration arrives again, then the schedule
    late = [d for d in run.lambda_service.deliveries if d.kind == "late duplicate"]
    assert [d.request_type for d in late] == ["Create"]
    assert shared_accounts(run.aws, image_id) == workloads_accounts


@pytest.mark.long
def test_600_extra_accounts_and_a_delete_that_runs_out_of_time_then_retried(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    many = set(organization.add_accounts("Sandbox", 600))
    sharing = _deployed(run, organization_app, image_id, [organization.ou_ids["Sandbox"]])
    everyone = many | set(made["Sandbox"])
    assert shared_accounts(run.aws, image_id) == everyone
    assert run.advance(HOUR) == 1
    assert "602 accounts in scope" in run.lambda_service.deliveries[-1].invocation.log

    # Every WorkSpaces and ledger call throttled once costs botocore's back-off on the virtual
    # clock (within its retry quota): the 900 s Timeout runs out part way.
    for target in (GRANT, *LEDGER_WRITES):
        run.aws.faults.throttle_each(target, 1)
    assert not sharing.delete()
    assert sharing.status == "DELETE_FAILED"
    assert "stopped after" in sharing.steps[-1].response.reason
    left = shared_accounts(run.aws, image_id)
    assert left and left < everyone
    while sharing.status == "DELETE_FAILED" and len(sharing.steps) < 6:
        sharing.delete()  # the user deletes the stack again
    assert sharing.status == "DELETE_COMPLETE"
    assert shared_accounts(run.aws, image_id) == set()


@pytest.mark.long
def test_a_share_another_stack_declares_stays_when_the_account_leaves(
    organization_rehearsal: Rehearsal,
    organization_app: OrganizationApp,
    example_stack: StackTemplate,
    image_id: str,
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    sharing = _deployed(run, organization_app, image_id, [organization.ou_ids["Sandbox"]])
    declared = made["Sandbox"][0]
    pair_stack = run.stack("PairShare")
    assert pair_stack.deploy(
        example_stack.with_values({EXAMPLE_IMAGE_ID: image_id, EXAMPLE_ACCOUNT_ID: declared})
    )
    organization.move(declared, "Sandbox", "Workloads")
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == set(made["Sandbox"])
    assert sharing.delete()
    assert shared_accounts(run.aws, image_id) == {declared}


@pytest.mark.long
def test_organizations_empty_pages_throttling_and_a_failed_read(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    run.aws.faults.empty_pages(3)
    run.aws.faults.inject(
        Fault("ListAccountsForParent", "error", times=2, error_code="TooManyRequestsException")
    )
    _deployed(run, organization_app, image_id, [organization.ou_ids["Workloads"]])
    expected = _active(made, "Workloads", "Workloads/Prod")
    assert shared_accounts(run.aws, image_id) == expected

    organization.move(made["Workloads"][0], "Workloads", "Sandbox")
    run.aws.faults.inject(
        Fault("ListAccountsForParent", "error", times=1_000, error_code="ServiceException")
    )
    run.advance(HOUR)  # fails closed: nothing revoked
    assert shared_accounts(run.aws, image_id) == expected
    run.aws.faults.clear()
    run.advance(HOUR)
    assert shared_accounts(run.aws, image_id) == expected - {made["Workloads"][0]}


def test_the_share_in_a_nested_stack(
    organization_rehearsal: Rehearsal,
    organization_app: OrganizationApp,
    image_id: str,
    tmp_path: Path,
) -> None:
    run = organization_rehearsal
    organization, made = _organization(run)
    workloads = organization.ou_ids["Workloads"]

    def declare(stack: cdk.Stack) -> None:
        WorkspaceImageOrganizationShare(
            cdk.NestedStack(stack, "Sharing"),
            "Workloads",
            image_id=image_id,
            organizational_unit_ids=[workloads],
            organizations_role_arn=f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/{READER_ROLE_NAME}",
        )

    assert run.stack("OrganizationReader", MANAGEMENT_ACCOUNT_ID).deploy(organization_app.reader)
    parent = run.stack(STACK_NAME)
    assert parent.deploy(synth(tmp_path, declare)), [s.describe() for s in run.engines[-1].steps]
    (nested,) = parent.nested.values()
    assert nested.status == "CREATE_COMPLETE"
    expected = _active(made, "Workloads", "Workloads/Prod")
    assert shared_accounts(run.aws, image_id) == expected

    leaving = made["Workloads"][0]
    organization.move(leaving, "Workloads", "Sandbox")
    assert run.advance(HOUR) == 1
    assert shared_accounts(run.aws, image_id) == expected - {leaving}
    assert parent.delete() and nested.status == "DELETE_COMPLETE"
    assert shared_accounts(run.aws, image_id) == set()
