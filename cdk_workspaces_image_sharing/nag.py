"""Acknowledge cdk-nag findings on this library's own resources, with the reason, so that users
who run cdk-nag see only findings about their own code. No dependency on cdk-nag: it reads
construct metadata (cdk-nag 2) or CDK's Validations acknowledgements (cdk-nag 3)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(
    construct: IConstruct, rule: str, reason: str, *, applies_to: str | None = None
) -> None:
    """Record that ``rule`` (e.g. ``AwsSolutions-L1``) does not apply to ``construct``.

    ``applies_to`` limits it to one finding of the rule (e.g. ``Resource::arn:…/*`` for
    AwsSolutions-IAM5), so that any other finding of that rule is still reported.
    """
    resource = construct.node.default_child or construct
    if isinstance(resource, cdk.CfnResource):
        metadata = resource.get_metadata("cdk_nag") or {}
        suppression: dict[str, object] = {"id": rule, "reason": reason}
        if applies_to is not None:
            suppression["applies_to"] = [applies_to]
        rules = [*metadata.get("rules_to_suppress", []), suppression]
        resource.add_metadata("cdk_nag", {"rules_to_suppress": rules})
    validations = getattr(cdk, "Validations", None)  # aws-cdk-lib 2.27x and later
    if validations is not None:
        pack = rule.split("-", 1)[0]
        finding = f"{rule}[{applies_to}]" if applies_to is not None else rule
        validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"{pack}::{finding}", reason=reason)
        )
