"""cfn-lint and cdk-nag on the tests' own synthesized app."""

from __future__ import annotations

from tests.support.apps import SynthesizedStack
from tests.support.template_checks import cfn_lint_errors, nag_report, templates_in

MIN_REASON_CHARS = 60  # a reason a reviewer can act on, not "ok" or "n/a"


def test_cfn_lint_finds_no_error(three_shares: SynthesizedStack) -> None:
    templates = templates_in(three_shares.assembly_dir)
    assert templates
    assert cfn_lint_errors(*templates) == ""


def test_cdk_nag_finds_nothing_unacknowledged(three_shares: SynthesizedStack) -> None:
    report = nag_report(three_shares.assembly_dir)
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    for suppressed in report["suppressedViolations"]:
        assert len(suppressed["reason"]) >= MIN_REASON_CHARS, suppressed
