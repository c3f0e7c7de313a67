"""The real-account integration test synthesizes in CI, passes cfn-lint and cdk-nag, and
asserts on DescribeWorkspaceImagePermissions."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from tests.integ.integ_workspace_image_permission import (
    PLACEHOLDER_ACCOUNT_ID,
    PLACEHOLDER_IMAGE_ID,
    build,
)
from tests.support.template_checks import add_nag, cfn_lint_errors, nag_report, templates_in


def test_integ_app_synthesizes_clean_with_its_assertion(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    add_nag(app)
    build(app)
    app.synth()
    assert (tmp_path / "integ.json").is_file()  # what integ-runner reads
    templates = templates_in(tmp_path)
    assert len(templates) == 2  # the stack under test and the assertion stack
    assert cfn_lint_errors(*templates) == ""
    assert nag_report(tmp_path)["violations"] == []

    (assert_template,) = [t for t in templates if "DeployAssert" in t.name]
    resources = json.loads(assert_template.read_text())["Resources"]
    (call,) = [
        r for r in resources.values() if r["Type"].startswith("Custom::DeployAssert@SdkCall")
    ]
    properties = call["Properties"]
    assert (properties["service"], properties["api"]) == (
        "WorkSpaces",
        "describeWorkspaceImagePermissions",
    )
    assert PLACEHOLDER_IMAGE_ID in json.dumps(properties["parameters"])
    assert PLACEHOLDER_ACCOUNT_ID in json.dumps(properties["expected"])
