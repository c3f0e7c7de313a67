"""The example app, synthesized by the real CDK CLI and in-process with cdk-nag."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest

import app as example
from rehearsal.assembly import StackTemplate
from tests.support.template_checks import add_nag, cfn_lint_errors, nag_report, templates_in
from tests.support.values import EXAMPLE_ACCOUNT_ID, EXAMPLE_IMAGE_ID


def test_cli_synth_uses_the_context_values(example_stack: StackTemplate) -> None:
    (share,) = example_stack.shares.values()
    assert share.properties == {"ImageId": EXAMPLE_IMAGE_ID, "SharedAccountId": EXAMPLE_ACCOUNT_ID}
    (function_id,) = [
        lid
        for lid, r in example_stack.template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    function = example_stack.function(function_id)
    assert function.handler == "sharing_functions.pair.entry.handler"
    assert (function.asset_dir / "sharing_functions" / "pair" / "entry.py").is_file()


def test_cli_synth_passes_cfn_lint(example_outdir: Path) -> None:
    assert cfn_lint_errors(*templates_in(example_outdir)) == ""


def test_defaults_synthesize_without_context(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    add_nag(app)
    stack = example.build_app(app)
    app.synth()
    template = json.loads((tmp_path / f"{stack.stack_name}.template.json").read_text())
    (share,) = [r for r in template["Resources"].values() if r["Type"].startswith("Custom::")]
    assert share["Properties"]["ImageId"] == example.DEFAULT_IMAGE_ID
    assert nag_report(tmp_path)["violations"] == []


def test_bad_context_fails_synth_naming_the_value() -> None:
    app = cdk.App(context={"accountId": "12345"})
    with pytest.raises(ValueError, match=re.escape("shared_account_id (SharedAccountId) '12345'")):
        example.build_app(app)
