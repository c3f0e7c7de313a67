"""Acknowledging a cdk-nag rule on one resource, limited to one finding where asked."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from cdk_workspaces_image_sharing.core.nag import acknowledge


def suppressions(resource: cdk.CfnResource) -> list[dict[str, object]]:
    rules: list[dict[str, object]] = resource.get_metadata("cdk_nag")["rules_to_suppress"]
    return rules


def test_acknowledgements_accumulate_with_their_reasons_on_the_default_child() -> None:
    queue = sqs.Queue(cdk.Stack(cdk.App(), "Nag"), "Queue")
    acknowledge(queue, "AwsSolutions-SQS3", "no dead-letter queue: a test")
    acknowledge(queue, "AwsSolutions-IAM5", "one wildcard", applies_to="Resource::arn:x/*")
    resource = queue.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert suppressions(resource) == [
        {"id": "AwsSolutions-SQS3", "reason": "no dead-letter queue: a test"},
        {"id": "AwsSolutions-IAM5", "reason": "one wildcard", "applies_to": ["Resource::arn:x/*"]},
    ]


def test_a_construct_without_a_resource_records_nothing_on_resources() -> None:
    stack = cdk.Stack(cdk.App(), "Nag")
    acknowledge(stack, "AwsSolutions-L1", "no resource here")  # must not raise
    assert stack.node.default_child is None


def test_two_acknowledgements_of_one_rule_merge_their_findings() -> None:
    queue = sqs.Queue(cdk.Stack(cdk.App(), "Nag"), "Queue")
    acknowledge(queue, "AwsSolutions-IAM5", "images", applies_to="Resource::arn:a/*")
    acknowledge(queue, "AwsSolutions-IAM5", "OUs", applies_to=["Resource::b/*", "Resource::c/*"])
    resource = queue.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    (entry,) = suppressions(resource)
    assert entry["applies_to"] == ["Resource::arn:a/*", "Resource::b/*", "Resource::c/*"]
    assert entry["reason"] == "images OUs"
