"""The sharing function: one per stack, created on first use, and what a share waits for."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing.function_parts import ASYNC_RETRY_ATTEMPTS, every_image_arn
from cdk_workspaces_image_sharing.sharing_function import (
    ASYNC_MAX_EVENT_AGE,
    SERVICE_TIMEOUT,
    SharingFunction,
)


def test_get_or_create_makes_one_function_per_stack() -> None:
    app = cdk.App()
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    one = SharingFunction.get_or_create(first)
    assert SharingFunction.get_or_create(cdk.Stack(first, "Nested")) is not one  # its own stack
    assert SharingFunction.get_or_create(first) is one
    assert SharingFunction.get_or_create(second) is not one
    Template.from_stack(first).resource_count_is("AWS::Lambda::Function", 1)


def test_a_served_share_waits_for_the_async_invoke_settings() -> None:
    stack = cdk.Stack(cdk.App(), "Served")
    function = SharingFunction.get_or_create(stack)
    share = cdk.CfnResource(stack, "Share", type="Custom::Test")
    function.serve(share)
    template = Template.from_stack(stack).to_json()
    config_id = stack.get_logical_id(function.async_invoke_config.node.default_child)  # type: ignore[arg-type]
    assert config_id in template["Resources"]["Share"]["DependsOn"]


def test_async_invocation_never_retries_and_drops_events_older_than_the_service_timeout() -> None:
    stack = cdk.Stack(cdk.App(), "Async")
    SharingFunction.get_or_create(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "MaximumEventAgeInSeconds": ASYNC_MAX_EVENT_AGE.to_seconds(),
        },
    )
    assert ASYNC_RETRY_ATTEMPTS == 0
    assert 60 <= ASYNC_MAX_EVENT_AGE.to_seconds() <= SERVICE_TIMEOUT.to_seconds()


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
