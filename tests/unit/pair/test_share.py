"""WorkspaceImageShare: stable logical IDs, bounded concurrency, one function and statement."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import MAX_CONCURRENT_SHARES, WorkspaceImageShare
from tests.support.template_checks import add_nag, cfn_lint_errors, nag_report, templates_in
from tests.support.values import IMAGE_A, sample_accounts

ACCOUNTS = sample_accounts(100)
ENV = cdk.Environment(account="123456789012", region="us-east-1")


def synth(accounts: list[str], **options: Any) -> Mapping[str, Any]:
    stack = cdk.Stack(cdk.App(), "Many", env=ENV)
    WorkspaceImageShare(stack, "Share", image_id=IMAGE_A, account_ids=accounts, **options)
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def hundred() -> Mapping[str, Any]:
    return synth(ACCOUNTS)


def shares(template: Mapping[str, Any]) -> dict[str, Any]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "Custom::WorkspaceImagePermission"
    }


def test_reordering_a_hundred_accounts_changes_nothing(hundred: Mapping[str, Any]) -> None:
    assert synth(list(reversed(ACCOUNTS))) == hundred


def test_removing_one_account_removes_exactly_its_resource(hundred: Mapping[str, Any]) -> None:
    removed = ACCOUNTS[37]
    fewer = shares(synth([a for a in ACCOUNTS if a != removed]))
    before = shares(hundred)
    (gone,) = set(before) - set(fewer)
    assert before[gone]["Properties"]["SharedAccountId"] == removed
    assert set(fewer) <= set(before)
    for logical_id, resource in fewer.items():
        assert resource["Properties"] == before[logical_id]["Properties"]
    changed = [lid for lid in fewer if fewer[lid].get("DependsOn") != before[lid].get("DependsOn")]
    assert len(changed) <= 1  # only the next share in the removed one's lane


def test_logical_ids_derive_from_account_ids(hundred: Mapping[str, Any]) -> None:
    for logical_id, resource in shares(hundred).items():
        assert f"Account{resource['Properties']['SharedAccountId']}" in logical_id


def test_at_most_ten_shares_run_at_once(hundred: Mapping[str, Any]) -> None:
    resources = shares(hundred)
    depends = {
        lid: [d for d in r.get("DependsOn", []) if d in resources] for lid, r in resources.items()
    }
    assert all(len(d) <= 1 for d in depends.values())
    heads = [lid for lid, d in depends.items() if not d]
    assert len(heads) == MAX_CONCURRENT_SHARES
    followers = [d[0] for d in depends.values() if d]
    assert len(followers) == len(set(followers))  # chains, not trees: one runs after each


def test_one_function_and_one_image_statement_for_a_hundred_accounts(
    hundred: Mapping[str, Any],
) -> None:
    kinds = [r["Type"] for r in hundred["Resources"].values()]
    assert kinds.count("AWS::Lambda::Function") == 1
    statements = [
        s
        for r in hundred["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "workspaces:UpdateWorkspaceImagePermission" in s["Action"]
    ]
    assert len(statements) == 1
    assert json.dumps(statements[0]["Resource"]).count("workspaceimage/*") == 1


def test_retain_applies_to_every_share() -> None:
    template = synth(ACCOUNTS[:3], removal_policy=cdk.RemovalPolicy.RETAIN)
    assert {r["DeletionPolicy"] for r in shares(template).values()} == {"Retain"}


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ([], "Many/Share: account_ids is empty: expected at least one"),
        (
            [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[0]],
            f"Many/Share: account_ids repeats '{ACCOUNTS[0]}'",
        ),
        ([ACCOUNTS[0], "12345"], r"Many/Share: account_ids\[1\] \(SharedAccountId\) '12345'"),
    ],
)
def test_bad_lists_fail_at_synth(accounts: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synth(accounts)


def test_tokens_are_accepted_and_the_image_arn_follows_the_token() -> None:
    stack = cdk.Stack(cdk.App(), "Tokens", env=ENV)
    image = cdk.CfnParameter(stack, "ImageId").value_as_string
    from_ssm = ssm.StringParameter.value_for_string_parameter(stack, "/accounts/test")
    other = ssm.StringParameter(stack, "Prod", string_value="444455556666").string_value
    share = WorkspaceImageShare(stack, "Share", image_id=image, account_ids=[from_ssm, other])
    template = Template.from_stack(stack).to_json()
    values = sorted(
        json.dumps(r["Properties"]["SharedAccountId"]) for r in shares(template).values()
    )
    assert len(values) == 2 and all("Ref" in v or "GetAtt" in v for v in values)
    policy = json.dumps(
        [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    )
    assert ":workspaceimage/*" in policy  # every image of the stack: see sharing_function
    assert stack.resolve(share.image_arn)["Fn::Join"][1][-1] == {"Ref": "ImageId"}


def test_a_list_token_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "ListToken", env=ENV)
    accounts = cdk.CfnParameter(stack, "Accounts", type="CommaDelimitedList").value_as_list
    with pytest.raises(ValueError, match="length is unknown at synth"):
        WorkspaceImageShare(stack, "Share", image_id=IMAGE_A, account_ids=accounts)


def test_attributes_read_back_every_account() -> None:
    stack = cdk.Stack(cdk.App(), "Attributes", env=ENV)
    share = WorkspaceImageShare(stack, "Share", image_id=IMAGE_A, account_ids=ACCOUNTS[:2])
    resolved = stack.resolve(share.shared_account_ids)
    assert [r["Fn::GetAtt"][1] for r in resolved] == ["SharedAccountId", "SharedAccountId"]
    assert stack.resolve(share.shared_account_ids_csv)["Fn::Join"][0] == ","
    assert share.image_id == IMAGE_A


def test_hundred_shares_pass_cfn_lint_and_cdk_nag(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    add_nag(app)
    stack = cdk.Stack(app, "Many", env=ENV)
    WorkspaceImageShare(stack, "Share", image_id=IMAGE_A, account_ids=ACCOUNTS)
    app.synth()
    assert cfn_lint_errors(*templates_in(tmp_path)) == ""
    assert nag_report(tmp_path)["violations"] == []
