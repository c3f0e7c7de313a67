"""Stack facts: read once per stack; an account or Region that is a token is None."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from cdk_workspaces_image_sharing.core.stack_facts import stack_facts


def test_facts_are_read_once_per_stack_and_shared_by_its_constructs() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Known", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    deep = Construct(Construct(stack, "A"), "B")
    facts = stack_facts(deep)
    assert facts is stack_facts(stack)
    assert (facts.path, facts.environment) == ("Known", ("123456789012", "eu-west-1"))
    assert stack_facts(cdk.Stack(app, "Other")) is not facts


def test_an_environment_unknown_at_synth_is_none() -> None:
    facts = stack_facts(cdk.Stack(cdk.App(), "Anywhere"))
    assert facts.environment == (None, None)
