"""cfn-lint and cdk-nag, as the tests run them on every synthesized template."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

CFN_LINT_ERROR_BIT = 2  # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 info


def cfn_lint_errors(*templates: Path) -> str:
    """cfn-lint's error findings on the templates ('' when there are none)."""
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "parseable", *map(str, templates)],
        capture_output=True,
        text=True,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    if result.returncode & CFN_LINT_ERROR_BIT and not errors:
        errors = [result.stdout + result.stderr]
    return "\n".join(errors)


def templates_in(outdir: Path) -> list[Path]:
    """Every stack template in a cloud assembly (nested assemblies included)."""
    return sorted(outdir.rglob("*.template.json"))


# cdk-nag 3 is a validation plugin of the CDK's Validations API; the declared floor of
# aws-cdk-lib (scripts/floor) predates both, so there the templates are checked without it.
NAG_RUNS = hasattr(cdk, "Validations")


def add_nag(app: cdk.App) -> None:
    """Run cdk-nag's AwsSolutions pack when ``app`` synthesizes (synth fails on a finding),
    where the CDK has the Validations API."""
    if NAG_RUNS:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def nag_report(outdir: Path) -> dict[str, Any]:
    """The AwsSolutions plugin's report written by a synth with ``add_nag``; the test is
    skipped where the CDK has no Validations API (its other checks have run by then)."""
    if not NAG_RUNS:
        pytest.skip("cdk-nag 3 needs the CDK's Validations API, newer than this aws-cdk-lib")
    report = json.loads((outdir / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return dict(plugin)


def resolved_policy(document: dict[str, Any], stack_arn: str = "") -> dict[str, Any]:
    """An IAM policy document from a template with the partition (``aws``) and the stack's
    ARN filled in and its ``Fn::Join``s joined, as IAM evaluates it."""
    text = json.dumps(document).replace('{"Ref": "AWS::StackId"}', json.dumps(stack_arn))
    for join in re.findall(r'\{"Fn::Join": \["", \[.*?\]\]\}', text):
        parts = json.loads(join)["Fn::Join"][1]
        text = text.replace(
            join, json.dumps("".join(p if isinstance(p, str) else "aws" for p in parts))
        )
    return dict(json.loads(text))
