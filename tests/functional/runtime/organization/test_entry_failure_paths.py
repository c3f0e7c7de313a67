"""The organization share's failure paths on the local endpoint: a Delete that runs out of
time, an Update back during UPDATE_ROLLBACK, a cleanup Delete CloudFormation gives up on, a
redelivered request, and runs that read WorkSpaces before an overlapping revoke. Each ends
with WorkSpaces listing what the live configurations want, and the ledger saying so."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rehearsal.faults import Fault
from rehearsal.local_aws import LocalAws, create_image
from tests.support.organization_function import OrganizationFunction, organization_function
from tests.support.organizations import SampleOrganization, build_sample_organization
from tests.support.stacks import hand_set_stack
from tests.support.values import GRANT

SMALL = {"": 1, "Team": 4, "Team/Sub": 2, "Elsewhere": 2}


@pytest.fixture
def function(aws: LocalAws, image_id: str) -> Iterator[OrganizationFunction]:
    with organization_function(aws, image_id) as running:
        yield running


@pytest.fixture
def sample(aws: LocalAws) -> SampleOrganization:
    return build_sample_organization(aws.client("organizations"), SMALL)


def props(function: OrganizationFunction, parents: list[str], **extra: Any) -> dict[str, Any]:
    return {"ImageId": function.image_id, "OrganizationalUnitIds": parents, **extra}


def ledger(aws: LocalAws, function: OrganizationFunction) -> Any:
    return function.modules["organization.ledger"].ShareLedger(
        aws.client("dynamodb"), function.table
    )


def time_passes(aws: LocalAws, function: OrganizationFunction, seconds: float) -> None:
    """The ledger's deleted configurations were deleted ``seconds`` earlier than recorded."""
    dynamodb = aws.client("dynamodb")
    for item in dynamodb.query(
        TableName=function.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "DELETED"}},
    )["Items"]:
        earlier = float(item["deleted_at"]["N"]) - seconds
        dynamodb.put_item(
            TableName=function.table, Item={**item, "deleted_at": {"N": str(earlier)}}
        )


def stop_after(function: OrganizationFunction, calls: int) -> None:
    """The run's pacer refuses its call number ``calls + 1`` (the Timeout is near), once."""
    pacing = function.modules["organization.pacing"]
    wait = pacing.Pacer.wait

    def paced(pacer: Any) -> None:
        if pacer.calls >= calls:
            pacing.Pacer.wait = wait
            raise pacing.OutOfTime(f"stopped after {pacer.calls} calls (test)")
        wait(pacer)

    pacing.Pacer.wait = paced


def test_a_delete_that_runs_out_of_time_is_finished_by_its_retry(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    config = props(function, [sample.ou_ids["Team"]])
    created = function.send("Create", config)
    assert len(function.shared()) == 6
    stop_after(function, 2)
    first = function.send("Delete", config, physical_id=created.physical_id)
    assert first.status == "FAILED" and "OutOfTime" in first.reason
    assert len(function.shared()) == 4
    assert len(ledger(aws, function).holdings(function.image_id, created.physical_id)) == 4
    retried = function.send("Delete", config, physical_id=created.physical_id)
    assert retried.status == "SUCCESS", retried.reason
    assert function.shared() == set()
    assert ledger(aws, function).holdings(function.image_id, created.physical_id) == set()


def test_a_revoke_that_fails_stays_recorded_and_the_next_scheduled_run_revokes_it(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    config = props(function, [sample.ou_ids["Team"]])
    function.send("Create", config)
    leaver = sample.accounts["Team"][0]
    aws.client("organizations").move_account(
        AccountId=leaver,
        SourceParentId=sample.ou_ids["Team"],
        DestinationParentId=sample.ou_ids["Elsewhere"],
    )
    revoke = f'"AllowCopyImage": false, "SharedAccountId": "{leaver}"'
    aws.faults.inject(
        Fault(GRANT, "error", error_code="AccessDeniedException", times=10, body_contains=revoke)
    )
    function.scheduled_run(config)
    aws.faults.clear()
    assert leaver in function.shared()
    assert leaver in ledger(aws, function).holdings(function.image_id, created_id(function, config))
    function.scheduled_run(config)
    assert leaver not in function.shared()


def created_id(function: OrganizationFunction, config: dict[str, Any]) -> str:
    return function.configuration_id(config)


@pytest.mark.parametrize("fault", ["moved away", "gone", "unreadable"])
def test_an_update_back_during_update_rollback_never_fails(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization, fault: str
) -> None:
    """The Update back to the old OU after every account of it moved away, the OU was
    deleted, or Organizations cannot be read: SUCCESS, and nothing the stack wants is lost."""
    old = props(function, [sample.ou_ids["Team/Sub"]])
    created = function.send("Create", old)
    new = props(function, [sample.ou_ids["Elsewhere"]])
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert updated.status == "SUCCESS"
    organizations = aws.client("organizations")
    if fault in ("moved away", "gone"):
        for account in sample.accounts["Team/Sub"]:
            organizations.move_account(
                AccountId=account,
                SourceParentId=sample.ou_ids["Team/Sub"],
                DestinationParentId=sample.ou_ids["Team"],
            )
    if fault == "gone":
        organizations.delete_organizational_unit(OrganizationalUnitId=sample.ou_ids["Team/Sub"])
    if fault == "unreadable":
        aws.faults.inject(Fault("ListAccountsForParent", "error", error_code="AccessDenied"))
    function.stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    back = function.send("Update", old, physical_id=updated.physical_id, old_properties=new)
    assert back.status == "SUCCESS", back.reason
    assert back.physical_id == created.physical_id
    function.stack.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    cleanup = function.send("Delete", new, physical_id=updated.physical_id)
    assert cleanup.status == "SUCCESS"
    assert function.shared() == set(sample.accounts["Team/Sub"])  # what the old one granted


def test_a_forward_update_still_fails_when_organizations_cannot_be_read(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    old = props(function, [sample.ou_ids["Team"]])
    created = function.send("Create", old)
    aws.faults.inject(Fault("ListAccountsForParent", "error", error_code="AccessDenied"))
    function.stack.status = "UPDATE_IN_PROGRESS"
    new = props(function, [sample.ou_ids["Elsewhere"]])
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert updated.status == "FAILED" and "AccessDenied" in updated.reason


def test_pairs_of_a_cleanup_cloudformation_gave_up_on_are_released_by_the_next_run(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """An image change: A shares image X, B image Y. A's cleanup Delete fails three times
    (every revoke refused), CloudFormation drops A; B's next scheduled run revokes X's shares,
    though no configuration of image X is left."""
    old = props(function, [sample.ou_ids["Team/Sub"]])
    created = function.send("Create", old)
    image_y = create_image(aws, "golden-image-y")
    new = {**props(function, [sample.ou_ids["Team/Sub"]]), "ImageId": image_y}
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert updated.status == "SUCCESS"
    revoke = '"AllowCopyImage": false'
    aws.faults.inject(
        Fault(GRANT, "error", error_code="AccessDeniedException", times=30, body_contains=revoke)
    )
    for _ in range(3):  # CloudFormation's three attempts, then it removes A from the stack
        cleanup = function.send("Delete", old, physical_id=created.physical_id)
        assert cleanup.status == "FAILED"
    aws.faults.clear()
    assert function.shared() == set(sample.accounts["Team/Sub"])  # image X, untracked by CFN
    function.scheduled_run(new)  # A's Delete may still be running: its pairs are left to it
    assert function.shared() == set(sample.accounts["Team/Sub"])
    time_passes(aws, function, 1_200)  # past the ServiceTimeout: no event of A's will come
    function.scheduled_run(new)
    assert function.shared() == set()
    assert aws.shared_accounts(image_y) == set(sample.accounts["Team/Sub"])
    assert ledger(aws, function).deleted_configurations() == []


def test_a_redelivered_create_after_its_cleanup_delete_changes_nothing(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """Create A, Update to B (without one account), A's cleanup Delete; then Lambda delivers
    A's Create again. A stays deleted and its dropped account stays revoked; an Update from B
    back to A (a new request for A's ID) revives A."""
    team = sample.ou_ids["Team"]
    old = props(function, [team])
    create = function.event("Create", old)
    created = function.deliver(create)
    dropped = sample.accounts["Team"][0]
    new = props(function, [team], ExcludeAccountIds=[dropped])
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert function.send("Delete", old, physical_id=created.physical_id).status == "SUCCESS"
    assert dropped not in function.shared()
    function.redeliver(create)
    assert dropped not in function.shared()
    assert not ledger(aws, function).is_live(created.physical_id)
    assert ledger(aws, function).holdings(function.image_id, created.physical_id) == set()
    back = function.send("Update", old, physical_id=updated.physical_id, old_properties=new)
    assert back.physical_id == created.physical_id and dropped in function.shared()
    assert ledger(aws, function).is_live(created.physical_id)


def _before_listing_returns(function: OrganizationFunction, meanwhile: Callable[[], None]) -> None:
    """The next read of the image's permissions returns what it read before ``meanwhile`` ran
    (a run that read WorkSpaces just before an overlapping run changed it)."""
    run: Any = function.modules["organization.sync"]  # where a run looks the read up
    read = run.shared_accounts

    def stale(client: Any, image_id: str) -> Any:
        run.shared_accounts = read
        listed = read(client, image_id)
        meanwhile()
        return listed

    run.shared_accounts = stale


def _moves_into_b(aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization) -> Any:
    """A shares Team/Sub, B Elsewhere; then one of A's accounts moves into B's OU."""
    a = props(function, [sample.ou_ids["Team/Sub"]])
    created = function.send("Create", a)
    b = props(function, [sample.ou_ids["Elsewhere"]])
    assert function.send("Create", b).status == "SUCCESS"
    mover = min(sample.accounts["Team/Sub"])  # A's Delete releases it first
    aws.client("organizations").move_account(
        AccountId=mover,
        SourceParentId=sample.ou_ids["Team/Sub"],
        DestinationParentId=sample.ou_ids["Elsewhere"],
    )
    return a, created, b, mover


def test_a_revoke_between_a_runs_read_and_its_want_is_granted_again(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """B's scheduled run reads WorkSpaces (the mover is listed: A shares it), then A's Delete
    revokes it, then B wants it: B must grant it, not record it as shared before either."""
    a, created, b, mover = _moves_into_b(aws, function, sample)

    def delete_a() -> None:
        assert function.send("Delete", a, physical_id=created.physical_id).status == "SUCCESS"
        assert mover not in function.shared()

    _before_listing_returns(function, delete_a)
    function.scheduled_run(b)
    assert function.shared() == set(sample.accounts["Elsewhere"]) | {mover}


def test_a_revoke_landing_after_a_concurrent_want_is_granted_back(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """A's Delete has marked the mover for revoking and waits for its call slot; B's scheduled
    run wants it and grants it; then A's revoke lands. It must end shared (B wants it)."""
    a, created, b, mover = _moves_into_b(aws, function, sample)
    pacing = function.modules["organization.pacing"]
    wait = pacing.Pacer.wait

    def run_b_first(pacer: Any) -> None:
        pacing.Pacer.wait = wait
        function.scheduled_run(b)
        assert mover in function.shared()
        wait(pacer)

    pacing.Pacer.wait = run_b_first
    assert function.send("Delete", a, physical_id=created.physical_id).status == "SUCCESS"
    assert function.shared() == set(sample.accounts["Elsewhere"]) | {mover}


def test_an_account_workspaces_refuses_does_not_fail_the_create_and_is_tried_again(
    aws: LocalAws,
    function: OrganizationFunction,
    sample: SampleOrganization,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A BYOL image and one account not enabled for BYOL: the others are shared, the refused
    one is counted (attribute, summary, Refused metric; not Failed) and tried again."""
    config = props(function, [sample.ou_ids["Team"]])
    byol_less = sample.accounts["Team"][0]
    grant = f'"AllowCopyImage": true, "SharedAccountId": "{byol_less}"'
    aws.faults.inject(
        Fault(
            GRANT,
            "error",
            error_code="OperationNotSupportedException",
            times=2,
            body_contains=grant,
        )
    )
    capsys.readouterr()
    created = function.send("Create", config)
    assert created.status == "SUCCESS", created.reason
    assert int(created.data["Refused"]) == 1
    assert function.shared() == sample.active_accounts(["Team"], True) - {byol_less}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [(m["Refused"], m["Failed"]) for m in metrics] == [(1, 0)]
    function.scheduled_run(config)  # still refused
    assert byol_less not in function.shared()
    function.scheduled_run(config)  # enabled for BYOL since
    assert byol_less in function.shared()


def test_a_create_whose_every_account_is_refused_fails(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    aws.faults.inject(Fault(GRANT, "error", error_code="OperationNotSupportedException", times=50))
    created = function.send("Create", props(function, [sample.ou_ids["Team/Sub"]]))
    assert created.status == "FAILED" and "2 refused" in created.reason
    assert function.shared() == set()


def test_a_pair_another_stack_declares_is_kept_and_other_stacks_are_read_only_to_revoke(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """A WorkspaceImagePermission of another stack, made after the organization share granted
    the pair: when the account leaves the OU, the scheduled run keeps it."""
    config = props(function, [sample.ou_ids["Team"]])
    function.send("Create", config)
    leaver, other_leaver = sample.accounts["Team"][:2]
    other = hand_set_stack(aws, "PerPairSharing", "UPDATE_COMPLETE")
    other.hold("Share", f"{function.image_id}/{leaver}")
    aws.faults.calls.clear()
    function.scheduled_run(config)  # nothing to revoke: no other stack is read
    assert aws.faults.calls["ListStacks"] == 0
    for account in (leaver, other_leaver):
        aws.client("organizations").move_account(
            AccountId=account,
            SourceParentId=sample.ou_ids["Team"],
            DestinationParentId=sample.ou_ids["Elsewhere"],
        )
    function.scheduled_run(config)
    assert leaver in function.shared() and other_leaver not in function.shared()
    assert aws.faults.calls["ListStacks"] == 1  # one listing for the run's two revokes


def test_a_delete_succeeds_whatever_an_abandoned_configuration_leaves_undone(
    aws: LocalAws, function: OrganizationFunction, sample: SampleOrganization
) -> None:
    """Y was given up on long ago and its revoke is still refused; A's Delete releases A's
    pairs and answers SUCCESS: Y's work is reported on its own, not as A's failure."""
    y = props(function, [sample.ou_ids["Team/Sub"]])
    y_created = function.send("Create", y)
    revoke = '"AllowCopyImage": false'
    aws.faults.inject(
        Fault(GRANT, "error", error_code="AccessDeniedException", times=100, body_contains=revoke)
    )
    assert function.send("Delete", y, physical_id=y_created.physical_id).status == "FAILED"
    time_passes(aws, function, 1_200)
    a = props(function, [sample.ou_ids["Elsewhere"]])
    a_created = function.send("Create", a)
    aws.faults.clear()
    aws.faults.inject(
        Fault(
            GRANT,
            "error",
            error_code="AccessDeniedException",
            times=100,
            body_contains=f'{revoke}, "SharedAccountId": "{sample.accounts["Team/Sub"][0]}"',
        )
    )
    deleted = function.send("Delete", a, physical_id=a_created.physical_id)
    assert deleted.status == "SUCCESS", deleted.reason
    assert function.shared() == {sample.accounts["Team/Sub"][0]}  # Y's refused one, recorded
    assert ledger(aws, function).holdings(function.image_id, y_created.physical_id) == {
        sample.accounts["Team/Sub"][0]
    }
