"""WorkspaceImagePermission's template: one function per stack, exact IAM, resource properties."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import WorkspaceImagePermission
from cdk_workspaces_image_sharing.core.function_parts import (
    IMAGE_PERMISSION_ACTIONS,
    STACK_READ_ACTIONS,
)
from cdk_workspaces_image_sharing.core.lambda_code import LambdaFunctionCode
from cdk_workspaces_image_sharing.pair.function import SERVICE_TIMEOUT
from rehearsal.iam_check import is_allowed
from tests.support.apps import SynthesizedStack
from tests.support.lambda_assets import (
    bytecode_files,
    package_modules,
    runtime_bytecode_for,
    shipped_modules,
)
from tests.support.template_checks import resolved_policy
from tests.support.values import IMAGE_A, IMAGE_B, SHARES

ACCOUNT, REGION = "123456789012", "us-east-1"
STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Images/0f0e"


def image_arn(image_id: str) -> dict[str, object]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":workspaces:us-east-1:123456789012:workspaceimage/" + image_id,
            ],
        ]
    }


def test_three_shares_use_one_function(three_shares: SynthesizedStack) -> None:
    three_shares.template.resource_count_is("AWS::Lambda::Function", 1)
    three_shares.template.resource_count_is("Custom::WorkspaceImagePermission", 3)


def test_each_share_is_a_custom_resource_served_by_the_function(
    three_shares: SynthesizedStack,
) -> None:
    function_id = next(iter(three_shares.template.find_resources("AWS::Lambda::Function")))
    for image_id, account_id in SHARES:
        three_shares.template.has_resource(
            "Custom::WorkspaceImagePermission",
            {
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
                    "ImageId": image_id,
                    "SharedAccountId": account_id,
                    "ServiceTimeout": "300",
                },
                "DeletionPolicy": "Delete",
            },
        )


def test_function_runtime_timeout_and_log_retention(three_shares: SynthesizedStack) -> None:
    three_shares.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Handler": "sharing_functions.pair.entry.handler",
            "Timeout": 180,
        },
    )
    three_shares.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def _role_policy(image_id: str) -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Images", env=cdk.Environment(account=ACCOUNT, region=REGION))
    WorkspaceImagePermission(stack, "Share", image_id=image_id, shared_account_id="111122223333")
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    return dict(policy["Properties"]["PolicyDocument"])


def test_role_policy_does_not_depend_on_the_declared_images() -> None:
    """After an image change the cleanup Delete of the old image's share runs under the new
    template's policy: it must still allow the old image."""
    policy_a, policy_b = _role_policy(IMAGE_A), _role_policy(IMAGE_B)
    assert policy_a == policy_b
    resolved = resolved_policy(policy_b, STACK_ARN)
    old_image = f"arn:aws:workspaces:{REGION}:{ACCOUNT}:workspaceimage/{IMAGE_A}"
    for action in IMAGE_PERMISSION_ACTIONS:
        assert is_allowed([resolved], action, old_image)
        assert not is_allowed(
            [resolved], action, f"arn:aws:workspaces:{REGION}:999988887777:workspaceimage/x"
        )
    for action in STACK_READ_ACTIONS:
        assert is_allowed([resolved], action, STACK_ARN)
        assert not is_allowed([resolved], action, STACK_ARN.replace("Images", "Other"))


def test_iam_names_only_its_actions_and_no_star_resource(three_shares: SynthesizedStack) -> None:
    policies = three_shares.template.find_resources("AWS::IAM::Policy")
    actions = {
        action
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    assert actions == {
        *IMAGE_PERMISSION_ACTIONS,
        *STACK_READ_ACTIONS,
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    template_text = json.dumps(three_shares.template.to_json())
    assert '"Resource": "*"' not in template_text
    three_shares.template.resource_count_is("AWS::IAM::Role", 1)
    roles = three_shares.template.find_resources("AWS::IAM::Role")
    assert all("ManagedPolicyArns" not in r["Properties"] for r in roles.values())


def test_async_invocation_is_never_retried_and_every_share_waits_for_it(
    three_shares: SynthesizedStack,
) -> None:
    ((config_id, config),) = three_shares.template.find_resources(
        "AWS::Lambda::EventInvokeConfig"
    ).items()
    properties = config["Properties"]
    assert properties["MaximumRetryAttempts"] == 0
    assert 60 <= properties["MaximumEventAgeInSeconds"] <= SERVICE_TIMEOUT.to_seconds()
    shares = three_shares.template.find_resources("Custom::WorkspaceImagePermission")
    assert all(config_id in share["DependsOn"] for share in shares.values())


def test_asset_holds_the_pair_functions_code_and_crhelper_but_not_boto3(
    three_shares: SynthesizedStack,
) -> None:
    function = next(iter(three_shares.template.find_resources("AWS::Lambda::Function").values()))
    asset = Path(three_shares.assembly_dir) / function["Metadata"]["aws:asset:path"]
    assert {p.name for p in asset.iterdir()} == {"sharing_functions", "crhelper"}
    # The organization function's sub-package is in its own function's asset only.
    assert package_modules(asset) == shipped_modules(LambdaFunctionCode.PAIR)
    assert not (asset / "sharing_functions" / "organization").exists()
    assert (asset / "crhelper" / "resource_helper.py").is_file()
    assert (asset / "crhelper" / "LICENSE").is_file()
    # Exactly the runtime's bytecode of each module (scripts/compile-runtime), nothing a local
    # run leaves behind.
    assert bytecode_files(asset) == runtime_bytecode_for(asset)
    assert not list(asset.rglob("*.pyi"))


def test_attributes_read_the_share_back(three_shares: SynthesizedStack) -> None:
    share = three_shares.stack.node.find_child("Share0")
    assert isinstance(share, WorkspaceImagePermission)
    resolved = three_shares.stack.resolve(share.image_id)
    assert resolved["Fn::GetAtt"][1] == "ImageId"
    assert three_shares.stack.resolve(share.shared_account_id)["Fn::GetAtt"][1] == (
        "SharedAccountId"
    )
    assert three_shares.stack.resolve(share.image_arn) == image_arn(IMAGE_A)


def test_retain_sets_deletion_policy(stack: cdk.Stack) -> None:
    WorkspaceImagePermission(
        stack,
        "Kept",
        image_id=IMAGE_A,
        shared_account_id="111122223333",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    Template.from_stack(stack).has_resource(
        "Custom::WorkspaceImagePermission",
        {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
    )


@pytest.mark.parametrize(
    ("image_id", "account_id", "message"),
    [
        (
            "ami-0123456789",
            "111122223333",
            "Empty/Bad: image_id (ImageId) 'ami-0123456789' is not a WorkSpaces",
        ),
        ("wsi-12345678", "111122223333", "expected 'wsi-' followed by 9 to 63"),
        ("wsi-ABCDEFGHI", "111122223333", "image_id (ImageId) 'wsi-ABCDEFGHI'"),
        (
            IMAGE_A,
            "1111 2222 3333",
            "Empty/Bad: shared_account_id (SharedAccountId) '1111 2222 3333' is not",
        ),
        (IMAGE_A, "11112222333x", "exactly 12 digits"),
        (IMAGE_A, "11112222333", "11 given: pass it as a string"),
        (IMAGE_A, "1111222233334", "13 given"),
        (
            IMAGE_A,
            11122223333,
            "shared_account_id (SharedAccountId) 11122223333 is not an AWS account ID",
        ),
        (IMAGE_A, "123456789012", "is the account that owns the image"),
    ],
)
def test_literal_bad_values_fail_at_synth_naming_path_value_and_expectation(
    stack: cdk.Stack, image_id: str, account_id: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WorkspaceImagePermission(stack, "Bad", image_id=image_id, shared_account_id=account_id)
    assert stack.node.try_find_child("WorkspaceImageSharingFunction") is None


def test_same_image_and_account_twice_fails(stack: cdk.Stack) -> None:
    WorkspaceImagePermission(stack, "First", image_id=IMAGE_A, shared_account_id="111122223333")
    with pytest.raises(ValueError, match=r"Empty/Again: .* already shared .* by Empty/First"):
        WorkspaceImagePermission(stack, "Again", image_id=IMAGE_A, shared_account_id="111122223333")


def test_owner_check_is_skipped_when_the_account_is_unknown() -> None:
    stack = cdk.Stack(cdk.App(), "Agnostic")
    WorkspaceImagePermission(stack, "Ok", image_id=IMAGE_A, shared_account_id="123456789012")
    assert stack.node.try_find_child("Ok") is not None


def test_tokens_are_left_to_the_handler(stack: cdk.Stack) -> None:
    image = cdk.CfnParameter(stack, "Image").value_as_string
    account = cdk.CfnParameter(stack, "Account").value_as_string
    share = WorkspaceImagePermission(stack, "Tokens", image_id=image, shared_account_id=account)
    Template.from_stack(stack).has_resource_properties(
        "Custom::WorkspaceImagePermission",
        {"ImageId": {"Ref": "Image"}, "SharedAccountId": {"Ref": "Account"}},
    )
    assert "workspaceimage/" in json.dumps(stack.resolve(share.image_arn))


def test_asset_holds_only_modules_and_crhelpers_licence(three_shares: SynthesizedStack) -> None:
    function = next(iter(three_shares.template.find_resources("AWS::Lambda::Function").values()))
    asset = Path(three_shares.assembly_dir) / function["Metadata"]["aws:asset:path"]
    files = [p.relative_to(asset) for p in asset.rglob("*") if p.is_file()]
    others = {str(p) for p in files if p.suffix not in (".py", ".pyc")}
    assert files and others == {"crhelper/LICENSE", "crhelper/NOTICE"}, files


def test_same_token_pair_twice_fails(stack: cdk.Stack) -> None:
    account = cdk.CfnParameter(stack, "Account").value_as_string
    WorkspaceImagePermission(stack, "First", image_id=IMAGE_A, shared_account_id=account)
    with pytest.raises(ValueError, match=r"Empty/Again: .* already shared .* by Empty/First"):
        WorkspaceImagePermission(stack, "Again", image_id=IMAGE_A, shared_account_id=account)
