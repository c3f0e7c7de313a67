"""The drift command shows an organization share's pairs as managed by it (its ledger's record
of its configuration), beside the per-pair resources of the same stack."""

from __future__ import annotations

import json

from cdk_workspaces_image_sharing.handler.organization_share import (
    LEDGER_LOGICAL_ID_PREFIX,
    RESOURCE_TYPE,
)
from rehearsal.local_aws import LocalAws
from tests.support.drift import Runner, shape_problems
from tests.support.organization_function import LOGICAL_ID, organization_function
from tests.support.organizations import build_sample_organization

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
        stack.hold(LOGICAL_ID, created.physical_id, resource_type=RESOURCE_TYPE)
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
