"""WorkspaceImageOrganizationShare and its reader role: the two-stack example app lint- and
nag-clean, least-privilege IAM, the schedule's input, synth-time checks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import (
    WorkspaceImageOrganizationReaderRole,
    WorkspaceImageOrganizationShare,
    WorkspaceImagePermission,
)
from cdk_workspaces_image_sharing.core.lambda_code import LambdaFunctionCode
from cdk_workspaces_image_sharing.organization.function import ROLE_NAME_PREFIX
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATION_RESOURCE_TYPE,
    SYNC_EVENT_KEY,
)
from examples import organization_share_app
from rehearsal.iam_check import is_allowed
from tests.support.lambda_assets import (
    bytecode_files,
    package_modules,
    runtime_bytecode_for,
    shipped_modules,
)
from tests.support.template_checks import (
    add_nag,
    cfn_lint_errors,
    nag_report,
    resolved_policy,
    templates_in,
)

IMAGE = "wsi-0123456789"
OU = "ou-ab12-11111111"
ENV = cdk.Environment(account="222222222222", region="us-east-1")


@pytest.fixture(scope="module")
def example_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("org-example")
    app = cdk.App(outdir=str(outdir))
    add_nag(app)
    organization_share_app.build_app(app)
    app.synth()
    return outdir


def template(outdir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((outdir / f"{name}.template.json").read_text()))


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def statements(template: dict[str, Any], role_name_part: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for key, p in template["Resources"].items()
        if p["Type"] == "AWS::IAM::Policy" and role_name_part in key
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_the_two_stack_example_is_cfn_lint_and_cdk_nag_clean(example_outdir: Path) -> None:
    assert cfn_lint_errors(*templates_in(example_outdir)) == ""
    report = nag_report(example_outdir)
    assert report["violations"] == [] and report["conclusion"] == "success"


def test_the_reader_role_trusts_only_sharing_functions_of_the_image_account(
    example_outdir: Path,
) -> None:
    (role,) = of_type(template(example_outdir, "OrganizationReader"), "AWS::IAM::Role")
    assert role["Properties"]["RoleName"] == organization_share_app.READER_ROLE_NAME
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"]["AWS"]["Fn::Join"][1][-1] == ":iam::222222222222:root"
    (pattern,) = trust["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1:]
    assert pattern == f":iam::222222222222:role/{ROLE_NAME_PREFIX}*"


def test_the_reader_role_may_only_list_organizational_units(example_outdir: Path) -> None:
    (statement,) = statements(template(example_outdir, "OrganizationReader"), "Reader")
    assert statement["Action"] == [
        "organizations:ListAccountsForParent",
        "organizations:ListOrganizationalUnitsForParent",
    ]
    assert all(":organizations::*:" in json.dumps(r) for r in statement["Resource"])


def test_the_sharing_function_assumes_the_reader_role_and_reads_nothing_itself(
    example_outdir: Path,
) -> None:
    sharing = template(example_outdir, "ImageSharing")
    found = statements(sharing, "WorkspaceImageOrganizationSharingFunctionRole")
    actions = {
        a for s in found for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "sts:AssumeRole" in actions
    assert not any(a.startswith("organizations:") for a in actions)
    assume = next(s for s in found if s["Action"] == "sts:AssumeRole")
    assert assume["Resource"] == (
        "arn:aws:iam::111111111111:role/" + organization_share_app.READER_ROLE_NAME
    )
    (function_role,) = of_type(sharing, "AWS::IAM::Role")
    name = function_role["Properties"]["RoleName"]["Fn::Join"][1]
    assert name[0] == ROLE_NAME_PREFIX


def test_direct_reads_are_scoped_to_the_given_ous_and_those_below_them() -> None:
    stack = cdk.Stack(cdk.App(), "Direct", env=ENV)
    WorkspaceImageOrganizationShare(
        stack, "Share", image_id=IMAGE, organizational_unit_ids=[OU, "r-ab12"]
    )
    document = Template.from_stack(stack).to_json()
    (policy,) = [r for r in document["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    whole = resolved_policy(policy["Properties"]["PolicyDocument"])
    reads = [s for s in whole["Statement"] if "organizations:" in json.dumps(s["Action"])]
    resolved = {**whole, "Statement": reads}
    org = "arn:aws:organizations::111111111111"
    for resource, allowed in [
        (f"{org}:ou/o-abcdefghij/{OU}", True),
        (f"{org}:ou/o-abcdefghij/ou-ab12-99999999", True),  # below, same root
        (f"{org}:root/o-abcdefghij/r-ab12", True),
        (f"{org}:ou/o-abcdefghij/ou-zz99-11111111", False),  # another root's OU
        (f"{org}:root/o-abcdefghij/r-zz99", False),
    ]:
        assert is_allowed([resolved], "organizations:ListAccountsForParent", resource) is allowed


def test_ou_ids_as_a_list_token_allow_every_ou_and_root_of_the_organization() -> None:
    """A ``CommaDelimitedList`` of OUs, read directly or through the reader role."""
    app = cdk.App()
    stack = cdk.Stack(app, "ListToken", env=ENV)
    ous = cdk.CfnParameter(stack, "Ous", type="CommaDelimitedList").value_as_list
    WorkspaceImageOrganizationShare(stack, "Share", image_id=IMAGE, organizational_unit_ids=ous)
    management = cdk.Stack(app, "Management", env=cdk.Environment(account="111111111111"))
    WorkspaceImageOrganizationReaderRole(
        management,
        "Reader",
        image_account_ids=["222222222222"],
        organizational_unit_ids=cdk.CfnParameter(
            management, "Ous", type="CommaDelimitedList"
        ).value_as_list,
    )
    document = Template.from_stack(stack).to_json()
    (resource,) = [
        r for r in document["Resources"].values() if r["Type"] == ORGANIZATION_RESOURCE_TYPE
    ]
    assert resource["Properties"]["OrganizationalUnitIds"] == {"Ref": "Ous"}
    org = "arn:aws:organizations::111111111111"
    for role, found in (
        ("WorkspaceImageOrganizationSharingFunctionRole", document),
        ("ReaderRole", Template.from_stack(management).to_json()),
    ):
        (policy,) = [
            r
            for key, r in found["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and key.startswith(role)
        ]
        whole = resolved_policy(policy["Properties"]["PolicyDocument"])
        reads = {
            **whole,
            "Statement": [
                s for s in whole["Statement"] if "organizations:" in json.dumps(s["Action"])
            ],
        }
        for resource_arn in (
            f"{org}:ou/o-abcdefghij/ou-zz99-11111111",
            f"{org}:root/o-abcdefghij/r-zz99",
        ):
            assert is_allowed([reads], "organizations:ListAccountsForParent", resource_arn)


def _schedule_input(stack: cdk.Stack) -> Any:
    (rule,) = [
        r
        for r in Template.from_stack(stack).to_json()["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
    ]
    return rule["Properties"]["Targets"][0]["Input"]


def test_the_schedule_sends_the_configuration_id_with_its_stack_and_logical_id() -> None:
    """What the rule sends names the resource and its configuration: the handler reads the
    properties the Create or Update stored, whatever the size of the account lists."""
    stack = cdk.Stack(cdk.App(), "Scheduled", env=ENV)
    share = WorkspaceImageOrganizationShare(
        stack,
        "Share",
        image_id=IMAGE,
        organizational_unit_ids=[OU],
        account_ids=cdk.CfnParameter(stack, "Extra", type="CommaDelimitedList").value_as_list,
        sync_interval=cdk.Duration.minutes(30),
    )
    document = Template.from_stack(stack).to_json()
    (resource,) = [
        r for r in document["Resources"].values() if r["Type"] == ORGANIZATION_RESOURCE_TYPE
    ]
    (rule,) = [r for r in document["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"
    cfn_resource = share.resource.node.default_child
    assert isinstance(cfn_resource, cdk.CfnResource)
    logical_id = stack.get_logical_id(cfn_resource)
    parts = rule["Properties"]["Targets"][0]["Input"]["Fn::Join"][1]
    assert {"Ref": "AWS::StackId"} in parts and {"Ref": logical_id} in parts
    assert {"Fn::GetAtt": [logical_id, "PropertiesDigest"]} in parts
    text = json.dumps(parts)
    assert SYNC_EVENT_KEY in text and f'\\"LogicalResourceId\\":\\"{logical_id}\\"' in text
    assert resource["Properties"]["AccountIds"] == {"Ref": "Extra"}
    assert "Extra" not in text and IMAGE not in text and OU not in text


def test_the_schedules_input_stays_small_with_600_extra_accounts() -> None:
    """EventBridge refuses a target Input over 8,192 characters."""
    stack = cdk.Stack(cdk.App(), "Many", env=ENV)
    extra = [f"{100000000000 + n}" for n in range(600)]
    WorkspaceImageOrganizationShare(
        stack, "Share", image_id=IMAGE, organizational_unit_ids=[OU], account_ids=extra
    )
    rendered = json.dumps(_schedule_input(stack))
    assert len(rendered) < 1_000 and extra[0] not in rendered


def test_no_schedule_when_sync_interval_is_none() -> None:
    stack = cdk.Stack(cdk.App(), "Once", env=ENV)
    WorkspaceImageOrganizationShare(
        stack, "Share", image_id=IMAGE, organizational_unit_ids=[OU], sync_interval=None
    )
    Template.from_stack(stack).resource_count_is("AWS::Events::Rule", 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"organizational_unit_ids": []},
            "organizational_unit_ids (OrganizationalUnitIds) is empty",
        ),
        (
            {"organizational_unit_ids": [OU, "o-abcdefghij"]},
            "organizational_unit_ids[1] (OrganizationalUnitIds) 'o-abcdefghij' is not an OU",
        ),
        ({"account_ids": ["12345"]}, "account_ids[0] (AccountIds) '12345' is not an AWS account"),
        ({"account_ids": ["222222222222"]}, "is the account that owns the image"),
        ({"exclude_account_ids": ["x"]}, "exclude_account_ids[0] (ExcludeAccountIds) 'x'"),
        ({"max_revocations_per_run": -1}, "max_revocations_per_run (MaxRevocationsPerRun) -1"),
        ({"organizations_role_arn": "reader"}, "organizations_role_arn (OrganizationsRoleArn)"),
        ({"image_id": "ami-1"}, "image_id (ImageId) 'ami-1'"),
    ],
)
def test_literal_bad_values_fail_at_synth_naming_path_and_keyword(
    changes: dict[str, Any], message: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    arguments: dict[str, Any] = {"image_id": IMAGE, "organizational_unit_ids": [OU], **changes}
    with pytest.raises(ValueError, match=f"^Bad/Share: .*{re.escape(message)}"):
        WorkspaceImageOrganizationShare(stack, "Share", **arguments)


def test_the_reader_role_refuses_a_malformed_image_account() -> None:
    stack = cdk.Stack(cdk.App(), "Reader")
    with pytest.raises(ValueError, match=re.escape("image_account_ids[0] (SharedAccountId) '1'")):
        WorkspaceImageOrganizationReaderRole(stack, "Reader", image_account_ids=["1"])


def test_each_function_ships_only_its_own_modules(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "Both", env=ENV)
    WorkspaceImageOrganizationShare(stack, "Org", image_id=IMAGE, organizational_unit_ids=[OU])
    WorkspaceImagePermission(stack, "Pair", image_id=IMAGE, shared_account_id="111122223333")
    app.synth()
    functions = of_type(template(tmp_path, "Both"), "AWS::Lambda::Function")
    assets = {
        f["Properties"]["Handler"]: tmp_path / f["Metadata"]["aws:asset:path"] for f in functions
    }
    pair, organization = (
        assets[code.handler] for code in (LambdaFunctionCode.PAIR, LambdaFunctionCode.ORGANIZATION)
    )
    for code, asset in (
        (LambdaFunctionCode.PAIR, pair),
        (LambdaFunctionCode.ORGANIZATION, organization),
    ):
        assert package_modules(asset) == shipped_modules(code)
        assert bytecode_files(asset) == runtime_bytecode_for(asset)
    assert not (pair / "sharing_functions" / "organization").exists()
    assert not (organization / "sharing_functions" / "pair").exists()
    # The Organizations model, with botocore's licence, travels with its function only.
    models = organization / "sharing_functions" / "organization" / "botocore_models"
    assert (models / "organizations" / "2016-11-28" / "service-2.json.gz").is_file()
    assert (models / "LICENSE.txt").is_file()
