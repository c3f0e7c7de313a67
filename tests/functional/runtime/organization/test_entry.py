"""The organization sharing function against moto's Organizations, STS, DynamoDB and WorkSpaces
on the local endpoint: Create, scheduled runs as the organization changes, Update and its
cleanup, Delete; failures and the revocation bound; the cross-account role; a scheduled run
overlapping an Update."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATION_RESOURCE_TYPE,
)
from rehearsal.faults import Fault
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_python import lambda_python, sdk_site_packages
from rehearsal.local_aws import LocalAws
from tests.support.clients_made import record_clients
from tests.support.ledger import table_items
from tests.support.organization_function import (
    FUNCTION_TIMEOUT_SECONDS,
    LOGICAL_ID,
    OrganizationFunction,
    organization_function,
    organization_function_on_runtime_sdk,
)
from tests.support.organizations import (
    SampleOrganization,
    build_sample_organization,
    reader_policy,
    reader_trust_policy,
)

SMALL = {"": 1, "Team": 4, "Team/Sub": 2, "Elsewhere": 2}


@pytest.fixture
def function(aws: LocalAws, image_id: str) -> Iterator[OrganizationFunction]:
    with organization_function(aws, image_id) as running:
        yield running


def properties(parents: list[str], **extra: Any) -> dict[str, Any]:
    return {"ImageId": "", "OrganizationalUnitIds": parents, **extra}


def props(function: OrganizationFunction, parents: list[str], **extra: Any) -> dict[str, Any]:
    return {**properties(parents, **extra), "ImageId": function.image_id}


def move(aws: LocalAws, sample: SampleOrganization, account: str, source: str, to: str) -> None:
    aws.client("organizations").move_account(
        AccountId=account,
        SourceParentId=sample.parent_id(source),
        DestinationParentId=sample.parent_id(to),
    )


def new_account(aws: LocalAws, sample: SampleOrganization, path: str, name: str) -> str:
    organizations = aws.client("organizations")
    account = organizations.create_account(AccountName=name, Email=f"{name}@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    organizations.move_account(
        AccountId=account, SourceParentId=sample.root_id, DestinationParentId=sample.parent_id(path)
    )
    return str(account)


def test_the_organizations_lifecycle_leaves_earlier_shares_alone(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    """About 60 accounts in nested OUs, one suspended, the image's owner inside one OU; a share
    made by hand and one a WorkspaceImagePermission of the stack declares, both in scope."""
    sample = build_sample_organization(aws.client("organizations"))
    workloads = sample.ou_ids["Workloads"]
    in_scope = sample.active_accounts(["Workloads"], True) - {sample.management_account}
    by_hand, declared, *_ = sorted(sample.accounts["Workloads/Prod"][1:])
    workspaces = aws.client("workspaces")
    for account in (by_hand, declared):
        workspaces.update_workspace_image_permission(
            ImageId=function.image_id, AllowCopyImage=True, SharedAccountId=account
        )
    function.stack.hold("PerPairShare", f"{function.image_id}/{declared}")
    config = props(function, [workloads])

    created = function.send("Create", config)
    assert created.status == "SUCCESS", created.reason
    assert function.shared() == in_scope and len(in_scope) == 52
    assert int(created.data["AccountsInScope"]) == 52
    assert sample.management_account not in function.shared()
    assert not function.shared() & sample.suspended

    # One account leaves for another OU, one is created inside: the next run follows.
    leaver = sample.accounts["Workloads/Dev"][0]
    move(aws, sample, leaver, "Workloads/Dev", "Sandbox")
    joiner = new_account(aws, sample, "Workloads/Prod/EU", "joiner")
    function.scheduled_run(config)
    assert function.shared() == (in_scope - {leaver}) | {joiner}

    # The hand-made and the declared shares leave the OU too: neither is revoked.
    for account in (by_hand, declared):
        move(aws, sample, account, "Workloads/Prod", "Sandbox")
    function.scheduled_run(config)
    assert {by_hand, declared} <= function.shared()

    deleted = function.send("Delete", config, physical_id=created.physical_id)
    assert deleted.status == "SUCCESS", deleted.reason
    assert function.shared() == {by_hand, declared}
    ledger = table_items(aws.client("dynamodb"), function.table)
    pairs = [item for (pk, _), item in ledger.items() if pk.startswith("PAIR#")]
    assert pairs and all(item["phase"] == {"S": "revoked"} for item in pairs)  # tombstones


def test_an_organizations_failure_in_a_scheduled_run_revokes_nothing_and_says_so(
    aws: LocalAws, function: OrganizationFunction, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    config = props(function, [sample.ou_ids["Team"]])
    assert function.send("Create", config).status == "SUCCESS"
    shared = function.shared()
    move(aws, sample, sample.accounts["Team"][0], "Team", "Elsewhere")
    aws.faults.inject(Fault("ListOrganizationalUnitsForParent", "error", error_code="AccessDenied"))
    capsys.readouterr()
    function.scheduled_run(config)
    assert function.shared() == shared
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [(m["Trigger"], m["Failed"], m["Revoked"]) for m in metrics] == [("Scheduled", 1, 0)]


def test_a_scheduled_run_past_the_revocation_bound_revokes_nothing(
    aws: LocalAws, function: OrganizationFunction, caplog: pytest.LogCaptureFixture
) -> None:
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    config = props(function, [sample.ou_ids["Team"]], MaxRevocationsPerRun="1")
    assert function.send("Create", config).status == "SUCCESS"
    shared = function.shared()
    for account in sample.accounts["Team"][:2]:
        move(aws, sample, account, "Team", "Elsewhere")
    function.scheduled_run(config)
    assert function.shared() == shared
    assert "2 shares would be revoked, more than MaxRevocationsPerRun (1)" in caplog.text


def test_an_update_only_grants_and_its_cleanup_releases_what_the_new_one_drops(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    team = sample.ou_ids["Team"]
    old = props(function, [team])
    created = function.send("Create", old)
    dropped = sample.accounts["Team/Sub"][0]
    new = props(function, [team], ExcludeAccountIds=[dropped])
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert updated.status == "SUCCESS" and updated.physical_id != created.physical_id
    assert dropped in function.shared()  # an Update never revokes
    cleanup = function.send("Delete", old, physical_id=created.physical_id)
    assert cleanup.status == "SUCCESS"
    assert function.shared() == sample.active_accounts(["Team"], True) - {dropped}


def test_a_create_makes_no_cloudformation_client_and_an_update_does(
    aws: LocalAws, image_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cold start makes what every run needs (WorkSpaces, the ledger's DynamoDB); the
    Organizations client when accounts are listed, CloudFormation's when a run reads a stack
    (an Update tells whether it is rolling back)."""
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    made = record_clients(monkeypatch)
    with organization_function(aws, image_id) as function:
        old = props(function, [sample.ou_ids["Team"]])
        created = function.send("Create", old)
        assert created.status == "SUCCESS", created.reason
        assert made == ["workspaces", "dynamodb", "organizations"]
        assert function.shared() == sample.active_accounts(["Team"], True)
        new = props(function, [sample.ou_ids["Team"]], MaxRevocationsPerRun="5")
        updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert updated.status == "SUCCESS", updated.reason
    assert made[3:] == ["cloudformation", "organizations"]


def test_a_failed_creates_id_and_bad_properties(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    refused = function.send("Create", props(function, ["o-notanouid12"]))
    assert refused.status == "FAILED"
    assert "OrganizationalUnitIds 'o-notanouid12' is not an OU or root ID" in refused.reason
    rollback = function.send("Delete", {}, physical_id=refused.physical_id)
    assert rollback.status == "SUCCESS" and function.shared() == set()


def test_the_management_accounts_organization_through_the_reader_role(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    management = "111111111111"
    admin = aws.session_in(management, "Admin")
    sample = build_sample_organization(aws.client("organizations", admin), SMALL)
    reader = f"arn:aws:iam::{management}:role/WorkspaceImageOrganizationReader"
    config = props(function, [sample.ou_ids["Team"]], OrganizationsRoleArn=reader)
    created = function.send("Create", config)
    assert created.status == "SUCCESS", created.reason
    assert function.shared() == sample.active_accounts(["Team"], True)
    # Without the role the image account does not see that organization: the run fails.
    direct = props(function, [sample.ou_ids["Team"]])
    assert function.send("Create", direct).status == "FAILED"


def test_a_scheduled_run_overlapping_an_update_and_its_cleanup_loses_nothing(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    """The old configuration's scheduled run is paused at its first WorkSpaces call while the
    Update (a new configuration without one account) and the old one's cleanup Delete run;
    then it resumes. It must neither re-add the old configuration nor leave a share behind."""
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    team = sample.ou_ids["Team"]
    old = props(function, [team])
    created = function.send("Create", old)
    dropped = sample.accounts["Team"][0]
    joiner = new_account(aws, sample, "Team", "joiner")  # the paused run will grant it
    new = props(function, [team], ExcludeAccountIds=[dropped])
    pacing = function.modules["organization.pacing"]
    paused, resume = threading.Event(), threading.Event()
    wait = pacing.Pacer.wait

    def pause_once(pacer: Any) -> None:
        if not paused.is_set():
            paused.set()
            assert resume.wait(30)
        wait(pacer)

    pacing.Pacer.wait = pause_once
    run = threading.Thread(target=function.scheduled_run, args=(old,))
    run.start()
    assert paused.wait(30)
    pacing.Pacer.wait = wait  # the Update and Delete run unpaused
    updated = function.send("Update", new, physical_id=created.physical_id, old_properties=old)
    assert function.send("Delete", old, physical_id=created.physical_id).status == "SUCCESS"
    resume.set()
    run.join(30)
    wanted = (sample.active_accounts(["Team"], True) - {dropped}) | {joiner}
    assert function.shared() == wanted
    ledger = function.modules["organization.ledger"].ShareLedger(
        aws.client("dynamodb"), function.table
    )
    assert ledger.holdings(function.image_id, created.physical_id) == set()
    assert ledger.holdings(function.image_id, updated.physical_id) == wanted


def test_a_reader_role_that_cannot_be_assumed_is_reported_by_a_scheduled_run(
    aws: LocalAws, function: OrganizationFunction, capsys: pytest.CaptureFixture[str]
) -> None:
    """The usual misconfiguration (the reader role missing, or its trust wrong) must reach the
    summary and the Failed metric, not end the invocation with an error nobody sees."""
    management = "111111111111"
    admin = aws.session_in(management, "Admin")
    sample = build_sample_organization(aws.client("organizations", admin), SMALL)
    reader = f"arn:aws:iam::{management}:role/WorkspaceImageOrganizationReader"
    config = props(function, [sample.ou_ids["Team"]], OrganizationsRoleArn=reader)
    assert function.send("Create", config).status == "SUCCESS"
    shared = function.shared()
    aws.faults.inject(Fault("AssumeRole", "error", error_code="AccessDenied"))
    capsys.readouterr()
    function.scheduled_run(config)
    assert function.shared() == shared
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [(m["Trigger"], m["Failed"]) for m in metrics] == [("Scheduled", 1)]


def test_accounts_with_state_only_are_shared_on_the_runtimes_older_sdk(
    aws: LocalAws, image_id: str
) -> None:
    """Organizations answers ``State`` only (``Status`` was retired); the runtime's botocore
    does not model ``State``, so the function must read it with the model it ships."""
    lambda_python()  # with CI=true, a missing .venv-lambda is an error
    if sdk_site_packages() is None:  # pragma: no cover - outside CI, lambda_python() warned
        pytest.skip("no .venv-lambda (the runtime's older SDK): run bash scripts/setup")
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    answer = aws.client("organizations").list_accounts_for_parent(ParentId=sample.ou_ids["Team"])
    assert answer["Accounts"] and all(
        "State" in account and "Status" not in account for account in answer["Accounts"]
    )
    with organization_function_on_runtime_sdk(aws, image_id) as (runtime, cfn, stack, _):
        event = cfn.event(
            "Create",
            LOGICAL_ID,
            {"ImageId": image_id, "OrganizationalUnitIds": [sample.ou_ids["Team"]]},
            stack_id=stack.stack_id,
            resource_type=ORGANIZATION_RESOURCE_TYPE,
        )
        invocation = runtime.invoke(event)
        created = cfn.response(event)
    assert created.status == "SUCCESS", f"{created.reason}\n{invocation.log}"
    expected = sample.active_accounts(["Team"], True) - {sample.management_account}
    assert aws.shared_accounts(image_id) == expected and len(expected) == 6


def test_a_scheduled_run_reads_the_extra_accounts_from_what_the_create_stored(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    """The rule sends only the configuration's ID; the properties, however long their lists,
    are the ones the Create stored in the ledger."""
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    extra = [f"{300000000000 + n}" for n in range(40)]
    config = props(function, [sample.ou_ids["Team/Sub"]], AccountIds=extra)
    assert function.send("Create", config).status == "SUCCESS"
    revoked = extra[0]
    aws.client("workspaces").update_workspace_image_permission(
        ImageId=function.image_id, AllowCopyImage=False, SharedAccountId=revoked
    )
    function.scheduled_run(config)
    assert function.shared() == set(extra) | sample.active_accounts(["Team/Sub"], True)


def test_a_configuration_deployed_before_format_2_runs_on_its_old_rule_until_the_upgrade(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    """A stack deployed before: its ledger holds no properties and its rule sends them. Its
    old rule's runs work; the upgrade's Update (the new ConfigurationFormat property) keeps
    the physical ID and stores them, and the new rule's runs read them."""
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    before = props(function, [sample.ou_ids["Team"]])
    created = function.send("Create", before)
    ledger = function.modules["organization.ledger"]
    for pk, sk in list(table_items(aws.client("dynamodb"), function.table)):
        if pk.startswith("PROPS#"):  # as releases before format 2 left the table
            aws.client("dynamodb").delete_item(
                TableName=function.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}
            )
    digest = function.digests.pop(created.physical_id)
    assert (
        ledger.ShareLedger(aws.client("dynamodb"), function.table).stored_properties(
            created.physical_id, digest
        )
        is None
    )
    joiner = new_account(aws, sample, "Team", "joiner")
    function.scheduled_run_of_a_rule_deployed_before(before)
    assert joiner in function.shared()

    upgraded = {**before, "ConfigurationFormat": "2"}
    updated = function.send(
        "Update", upgraded, physical_id=created.physical_id, old_properties=before
    )
    assert updated.status == "SUCCESS" and updated.physical_id == created.physical_id
    late = new_account(aws, sample, "Team/Sub", "late")
    function.scheduled_run(upgraded)
    assert late in function.shared()


def test_scheduled_runs_read_what_the_stack_declares_after_a_rollback_and_a_late_duplicate(
    aws: LocalAws, function: OrganizationFunction, caplog: pytest.LogCaptureFixture
) -> None:
    """Changing only the bound keeps the physical ID. An Update to a bound of 0 is rolled back
    to 10, then a duplicate of the forward Update arrives: the schedule (the rolled-back
    attribute) still names the bound of 10."""
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    old = props(function, [sample.ou_ids["Team"]], MaxRevocationsPerRun="10")
    created = function.send("Create", old)
    new = {**old, "MaxRevocationsPerRun": "0"}
    forward = function.cloudformation.event(
        "Update",
        LOGICAL_ID,
        new,
        physical_id=created.physical_id,
        old_properties=old,
        stack_id=function.stack.stack_id,
        resource_type=ORGANIZATION_RESOURCE_TYPE,
    )
    function.modules["organization.entry"].handler(forward, LambdaContext(FUNCTION_TIMEOUT_SECONDS))
    back = function.send("Update", old, physical_id=created.physical_id, old_properties=new)
    assert back.status == "SUCCESS"
    function.modules["organization.entry"].handler(
        forward, LambdaContext(FUNCTION_TIMEOUT_SECONDS)
    )  # duplicate
    leaver = sample.accounts["Team"][0]
    move(aws, sample, leaver, "Team", "Elsewhere")
    function.scheduled_run(old)
    assert leaver not in function.shared()
    assert "more than MaxRevocationsPerRun" not in caplog.text


def test_properties_too_large_for_a_ledger_item_fail_the_create_and_change_nothing(
    aws: LocalAws, function: OrganizationFunction
) -> None:
    sample = build_sample_organization(aws.client("organizations"), SMALL)
    huge = props(function, [sample.ou_ids["Team"]], ExcludeAccountIds=["111122223333"] * 30_000)
    created = function.send("Create", huge)
    assert created.status == "FAILED"
    assert "more than the 380000 a ledger item holds" in created.reason
    assert function.shared() == set()


MANAGEMENT = "111111111111"
READER = f"arn:aws:iam::{MANAGEMENT}:role/WorkspaceImageOrganizationReader"
FUNCTION_ROLE = "arn:aws:iam::123456789012:role/WorkspaceImageOrgShare-us-east-1-0a1b2c3d"


def _reader_role(aws: LocalAws, admin: Any, trusted_prefix: str) -> None:
    """The reader role as WorkspaceImageOrganizationReaderRole makes it: it trusts the image
    account, on condition that the caller is a role whose name starts with the prefix."""
    trust = reader_trust_policy("123456789012", trusted_prefix)
    iam = aws.client("iam", admin)
    name = READER.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=name, PolicyName="Read", PolicyDocument=json.dumps(reader_policy())
    )


@pytest.mark.parametrize(
    ("reader", "shares"),
    [(None, False), ("WorkspaceImageOrgShare-", True), ("SomeoneElse-", False)],
)
def test_the_reader_role_must_exist_and_trust_the_sharing_function_first(
    aws: LocalAws, image_id: str, reader: str | None, shares: bool
) -> None:
    """STS refuses a role that does not exist and one whose trust refuses the caller alike
    (AccessDenied): the Reason names the role and both causes, and says to deploy it first."""
    admin = aws.session_in(MANAGEMENT, "Admin")
    sample = build_sample_organization(aws.client("organizations", admin), SMALL)
    if reader is not None:
        _reader_role(aws, admin, reader)
    with organization_function(aws, image_id, role_arn=FUNCTION_ROLE) as function:
        config = props(function, [sample.ou_ids["Team"]], OrganizationsRoleArn=READER)
        created = function.send("Create", config)
        if shares:
            assert created.status == "SUCCESS", created.reason
            assert function.shared() == sample.active_accounts(["Team"], True)
        else:
            assert created.status == "FAILED" and function.shared() == set()
            assert f"AssumeRole {READER} failed: AccessDenied: no such role yet" in created.reason
            assert "deploy WorkspaceImageOrganizationReaderRole first" in created.reason
            assert "trust policy refuses this function's role" in created.reason
