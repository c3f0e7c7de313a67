"""Acknowledge cdk-nag findings on this library's own resources, with the reason, so that users
who run cdk-nag see only findings about their own code. No dependency on cdk-nag: it reads
construct metadata (cdk-nag 2) or CDK's Validations acknowledgements (cdk-nag 3)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct


def acknowledge(construct: Construct, rule: str, reason: str) -> None:
    """Record that ``rule`` (e.g. ``AwsSolutions-L1``) does not apply to ``construct``."""
    resource = construct.node.default_child or construct
    if isinstance(resource, cdk.CfnResource):
        metadata = resource.get_metadata("cdk_nag") or {}
        rules = [*metadata.get("rules_to_suppress", []), {"id": rule, "reason": reason}]
        resource.add_metadata("cdk_nag", {"rules_to_suppress": rules})
    validations = getattr(cdk, "Validations", None)  # aws-cdk-lib 2.27x and later
    if validations is not None:
        pack = rule.split("-", 1)[0]
        validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"{pack}::{rule}", reason=reason)
        )
