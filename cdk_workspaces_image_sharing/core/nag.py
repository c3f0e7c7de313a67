"""Acknowledge cdk-nag findings on this library's own resources, with the reason, so that users
who run cdk-nag see only findings about their own code. No dependency on cdk-nag: it reads
construct metadata (cdk-nag 2) or CDK's Validations acknowledgements (cdk-nag 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: str | Sequence[str] | None = None,
) -> None:
    """Record that ``rule`` (e.g. ``AwsSolutions-L1``) does not apply to ``construct``.

    ``applies_to`` limits it to the findings named (e.g. ``Resource::arn:…/*`` for
    AwsSolutions-IAM5), so that any other finding of that rule is still reported. Several
    acknowledgements of one rule on one resource are merged into one metadata entry.
    """
    findings = [applies_to] if isinstance(applies_to, str) else list(applies_to or [])
    resource = construct.node.default_child or construct
    if isinstance(resource, cdk.CfnResource):
        metadata = resource.get_metadata("cdk_nag") or {}
        rules: list[dict[str, Any]] = [dict(r) for r in metadata.get("rules_to_suppress", [])]
        same = next((r for r in rules if r["id"] == rule), None)
        if same is None:
            same = {"id": rule, "reason": reason}
            rules.append(same)
        elif reason not in str(same["reason"]):
            same["reason"] = f"{same['reason']} {reason}"
        if findings:
            same["applies_to"] = [*same.get("applies_to", []), *findings]
        resource.add_metadata("cdk_nag", {"rules_to_suppress": rules})
    validations = getattr(cdk, "Validations", None)  # aws-cdk-lib 2.27x and later
    if validations is not None:
        pack = rule.split("-", 1)[0]
        for finding in [f"{rule}[{f}]" for f in findings] or [rule]:
            validations.of(construct).acknowledge(
                cdk.Acknowledgment(id=f"{pack}::{finding}", reason=reason)
            )


def finding_resource(scope: IConstruct, arn: str) -> str:
    """How cdk-nag writes ``arn`` in a finding's ``appliesTo``: pseudo parameters as
    ``<AWS::Name>`` (``Resource::`` + this is what an acknowledgement names)."""
    resolved = cdk.Stack.of(scope).resolve(arn)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
