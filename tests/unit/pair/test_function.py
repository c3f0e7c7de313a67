"""The sharing function: one per stack, created on first use, and what a share waits for."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import WorkspaceImageOrganizationShare, WorkspaceImagePermission
from cdk_workspaces_image_sharing.core.arns import every_image_arn
from cdk_workspaces_image_sharing.core.function_parts import ASYNC_RETRY_ATTEMPTS, async_event_age
from cdk_workspaces_image_sharing.pair.function import (
    FUNCTION_TIMEOUT,
    SERVICE_TIMEOUT,
    PairSharingFunction,
)


def test_get_or_create_makes_one_function_per_stack() -> None:
    app = cdk.App()
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    one = PairSharingFunction.get_or_create(first)
    assert PairSharingFunction.get_or_create(cdk.Stack(first, "Nested")) is not one  # its own stack
    assert PairSharingFunction.get_or_create(first) is one
    assert PairSharingFunction.get_or_create(second) is not one
    Template.from_stack(first).resource_count_is("AWS::Lambda::Function", 1)


def test_a_served_share_waits_for_the_async_invoke_settings() -> None:
    stack = cdk.Stack(cdk.App(), "Served")
    function = PairSharingFunction.get_or_create(stack)
    share = cdk.CfnResource(stack, "Share", type="Custom::Test")
    function.serve(share)
    template = Template.from_stack(stack).to_json()
    config_id = stack.get_logical_id(function.async_invoke_config.node.default_child)  # type: ignore[arg-type]
    assert config_id in template["Resources"]["Share"]["DependsOn"]


def test_async_invocation_never_retries_and_drops_events_older_than_the_service_timeout() -> None:
    stack = cdk.Stack(cdk.App(), "Async")
    PairSharingFunction.get_or_create(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "MaximumEventAgeInSeconds": async_event_age(
                FUNCTION_TIMEOUT, SERVICE_TIMEOUT
            ).to_seconds(),
        },
    )
    assert ASYNC_RETRY_ATTEMPTS == 0


def test_every_image_arn_is_the_stacks_own_account_and_region() -> None:
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    stack = cdk.Stack(cdk.App(), "Arn", env=env)
    assert stack.resolve(every_image_arn(stack)) == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":workspaces:eu-west-1:123456789012:workspaceimage/*",
            ],
        ]
    }


def test_an_event_started_as_late_as_lambda_allows_still_ends_within_the_service_timeout() -> None:
    """Lambda may first start a throttled asynchronous event as late as its MaximumEventAge;
    the invocation may then run its whole Timeout. Both together must end before
    CloudFormation stops waiting (ServiceTimeout) and sends the rollback Delete, for both
    functions; the age is at least Lambda's minimum."""
    stack = cdk.Stack(cdk.App(), "Late")
    WorkspaceImagePermission(
        stack, "Pair", image_id="wsi-0123456789", shared_account_id="111122223333"
    )
    WorkspaceImageOrganizationShare(
        stack, "Org", image_id="wsi-0123456789", organizational_unit_ids=["ou-ab12-11111111"]
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    ages = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]["MaximumEventAgeInSeconds"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    custom = [r for r in resources.values() if r["Type"].startswith("Custom::")]
    assert len(custom) == 2 and len(ages) == 2
    for resource in custom:
        function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        timeout = resources[function]["Properties"]["Timeout"]
        age = ages[function]
        assert age >= 60 and age + timeout <= int(resource["Properties"]["ServiceTimeout"]), (
            function,
            age,
            timeout,
        )


def test_a_service_timeout_too_short_for_the_least_event_age_is_refused() -> None:
    with pytest.raises(ValueError, match="least event age"):
        async_event_age(cdk.Duration.minutes(3), cdk.Duration.seconds(200))
