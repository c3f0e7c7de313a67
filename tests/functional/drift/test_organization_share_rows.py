"""The drift command shows an organization share's pairs as managed by it (its ledger's record
of its configuration), beside the per-pair resources of the same stack."""

from __future__ import annotations

import json

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    LEDGER_LOGICAL_ID_PREFIX,
    ORGANIZATION_RESOURCE_TYPE,
)
from rehearsal.faults import Fault
from rehearsal.local_aws import LocalAws
from tests.support.drift import Runner, shape_problems
from tests.support.organization_function import LOGICAL_ID, organization_function
from tests.support.organizations import build_sample_organization
from tests.support.values import GRANT

LAYOUT = {"": 1, "Team": 3}


def test_an_organization_shares_pairs_are_managed_by_it(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    sample = build_sample_organization(aws.client("organizations"), LAYOUT)
    members = sample.active_accounts(["Team"], True)
    declared = sorted(members)[0]
    with organization_function(aws, image_id) as function:
        created = function.send(
            "Create", {"ImageId": image_id, "OrganizationalUnitIds": [sample.ou_ids["Team"]]}
        )
        assert created.status == "SUCCESS", created.reason
        stack = function.stack
        stack.hold(LOGICAL_ID, created.physical_id, resource_type=ORGANIZATION_RESOURCE_TYPE)
        stack.hold(
            f"{LEDGER_LOGICAL_ID_PREFIX}0A1B2C3D",
            function.table,
            "CREATE_COMPLETE",
            resource_type="AWS::DynamoDB::Table",
        )
        stack.hold("PerPairShare", f"{image_id}/{declared}")
        run = cli("report", "--stack", stack.name, "--json")
    document = json.loads(run.out)
    assert shape_problems(document) == []
    rows = {row["account_id"]: row for row in document["rows"]}
    assert set(rows) == members
    for account, row in rows.items():
        kinds = sorted(ref["kind"] for ref in row["managed_by"])
        if account == declared:
            assert (row["state"], kinds) == ("duplicate", ["organization-share", "stack-resource"])
        else:
            assert (row["state"], kinds) == ("ok", ["organization-share"])
            assert row["managed_by"][0]["logical_id"] == LOGICAL_ID
    assert run.code == 1  # the duplicate


def test_organization_shares_of_one_stack_with_overlapping_scopes_are_in_sync(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    """An OU and the root hold their common pairs together in the stack's one ledger: deleting
    either leaves them to the other, so they are not duplicates; every holder is listed."""
    sample = build_sample_organization(aws.client("organizations"), LAYOUT)
    with organization_function(aws, image_id) as function:
        team = function.send(
            "Create", {"ImageId": image_id, "OrganizationalUnitIds": [sample.ou_ids["Team"]]}
        )
        function.stack.rows.clear()
        # A second resource of the same stack (another logical ID) over the whole organization.
        root_properties = {"ImageId": image_id, "OrganizationalUnitIds": [sample.root_id]}
        event = function.cloudformation.event(
            "Create",
            "Everyone",
            root_properties,
            stack_id=function.stack.stack_id,
            resource_type=ORGANIZATION_RESOURCE_TYPE,
        )
        root = function.deliver(event)
        assert team.status == root.status == "SUCCESS"
        stack = function.stack
        stack.hold(LOGICAL_ID, team.physical_id, resource_type=ORGANIZATION_RESOURCE_TYPE)
        stack.hold("Everyone", root.physical_id, resource_type=ORGANIZATION_RESOURCE_TYPE)
        stack.hold(
            f"{LEDGER_LOGICAL_ID_PREFIX}0A1B2C3D",
            function.table,
            "CREATE_COMPLETE",
            resource_type="AWS::DynamoDB::Table",
        )
        run = cli("report", "--stack", stack.name, "--json")
    document = json.loads(run.out)
    assert shape_problems(document) == []
    assert run.code == 0 and document["in_sync"], run.out
    rows = {row["account_id"]: row for row in document["rows"]}
    common = sample.active_accounts(["Team"], True)
    for account in common:
        holders = sorted(ref["logical_id"] for ref in rows[account]["managed_by"])
        assert (rows[account]["state"], holders) == ("ok", ["Everyone", LOGICAL_ID])


def test_pairs_of_a_configuration_cloudformation_gave_up_on_are_abandoned(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    """A cleanup Delete that failed three times: CloudFormation dropped the resource, the
    ledger still records its pairs. That is drift (exit 1), in a state of its own."""
    sample = build_sample_organization(aws.client("organizations"), LAYOUT)
    properties = {"ImageId": image_id, "OrganizationalUnitIds": [sample.ou_ids["Team"]]}
    with organization_function(aws, image_id) as function:
        created = function.send("Create", properties)
        aws.faults.inject(Fault(GRANT, "error", error_code="AccessDeniedException", times=100))
        for _ in range(3):
            assert (
                function.send("Delete", properties, physical_id=created.physical_id).status
                == "FAILED"
            )
        aws.faults.clear()
        function.stack.hold(
            f"{LEDGER_LOGICAL_ID_PREFIX}0A1B2C3D",
            function.table,
            "CREATE_COMPLETE",
            resource_type="AWS::DynamoDB::Table",
        )
        run = cli("report", "--stack", function.stack.name, "--json")
    document = json.loads(run.out)
    assert shape_problems(document) == []
    assert run.code == 1
    members = sample.active_accounts(["Team"], True)
    assert {row["account_id"]: row["state"] for row in document["rows"]} == dict.fromkeys(
        members, "abandoned"
    )
    ref = document["rows"][0]["managed_by"][0]
    assert (ref["kind"], ref["logical_id"]) == ("deleted-organization-share", created.physical_id)
