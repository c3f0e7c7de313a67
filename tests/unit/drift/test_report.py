"""The comparison, its table and JSON, the repair plan and the progress line, without AWS."""

from __future__ import annotations

import io

import pytest

from cdk_workspaces_image_sharing.drift.output import render_plan, render_table, report_json
from cdk_workspaces_image_sharing.drift.progress import ProgressLine
from cdk_workspaces_image_sharing.drift.repair import Verb, make_plan
from cdk_workspaces_image_sharing.drift.report import Report, State, build_report
from cdk_workspaces_image_sharing.drift.shares import Listed
from cdk_workspaces_image_sharing.drift.stacks import Declared, ShareResource
from tests.support.drift import A, B, C, D, shape_problems

IMAGE, OTHER, GONE = "wsi-0aaaaaaaa", "wsi-0bbbbbbbb", "wsi-0cccccccc"


def declared(*resources: tuple[str, str, str]) -> Declared:
    """(stack, logical ID, physical ID) of each live share resource."""
    rows = tuple(ShareResource(s, lid, pid, "CREATE_COMPLETE") for s, lid, pid in resources)
    return Declared(tuple(sorted({r.stack for r in rows})), rows)


def states(report: Report) -> list[tuple[str | None, str | None, str, list[str]]]:
    return [
        (
            row.image_id,
            row.account_id,
            str(row.state),
            [f"{ref.stack}/{ref.logical_id}" for ref in row.managed_by],
        )
        for row in report.rows
    ]


def test_each_state_from_declared_and_listed_pairs() -> None:
    report = build_report(
        declared(
            ("S1", "Ok", f"{IMAGE}/{A}"),
            ("S1", "Gone", f"{IMAGE}/{B}"),
            ("S1", "Twice", f"{OTHER}/{A}"),
            ("S2", "Again", f"{OTHER}/{A}"),
            ("S2", "Broken", "S2_Broken_ABCDEFGH"),
        ),
        Listed({IMAGE: frozenset({A, C, D}), OTHER: frozenset({A})}),
        ignored_accounts=[D],
    )
    assert states(report) == [
        (IMAGE, A, "ok", ["S1/Ok"]),
        (IMAGE, D, "ignored", []),
        (IMAGE, B, "missing", ["S1/Gone"]),
        (IMAGE, C, "unmanaged", []),
        (OTHER, A, "duplicate", ["S1/Twice", "S2/Again"]),
        (None, None, "not-a-share", ["S2/Broken"]),
    ]
    assert report.rows[-1].physical_id == "S2_Broken_ABCDEFGH"
    assert not report.in_sync
    assert report.counts == {
        "ok": 1,
        "missing": 1,
        "unmanaged": 1,
        "ignored": 1,
        "duplicate": 1,
        "not-a-share": 1,
        "abandoned": 0,
    }


def test_a_pair_declared_twice_and_not_shared_is_missing_first() -> None:
    """The row names the first fix: granting it makes it a duplicate, which needs the stacks."""
    report = build_report(
        declared(("S1", "One", f"{IMAGE}/{A}"), ("S1", "Two", f"{IMAGE}/{A}")),
        Listed({IMAGE: frozenset()}),
    )
    assert states(report) == [(IMAGE, A, "missing", ["S1/One", "S1/Two"])]


def test_ignored_accounts_keep_declared_pairs_checked() -> None:
    report = build_report(
        declared(("S1", "Share", f"{IMAGE}/{A}")),
        Listed({IMAGE: frozenset({B})}),
        ignored_accounts=[A, B],
    )
    assert states(report) == [(IMAGE, A, "missing", ["S1/Share"]), (IMAGE, B, "ignored", [])]


def test_all_ok_or_ignored_is_in_sync() -> None:
    report = build_report(
        declared(("S1", "Share", f"{IMAGE}/{A}")),
        Listed({IMAGE: frozenset({A, B})}),
        ignored_accounts=[B],
        region="us-east-1",
    )
    assert report.in_sync
    assert render_table(report).endswith("In sync: 1 ok, 1 ignored.\n")
    assert shape_problems(report_json(report)) == []


def test_pairs_of_an_image_that_does_not_exist_are_missing_and_not_granted() -> None:
    report = build_report(
        declared(("S1", "Share", f"{GONE}/{A}"), ("S1", "Other", f"{IMAGE}/{A}")),
        Listed({IMAGE: frozenset()}, not_found=frozenset({GONE})),
        region="eu-west-1",
    )
    assert [str(row.state) for row in report.rows] == ["missing", "missing"]
    plan = make_plan(report)
    assert [(a.verb, a.image_id) for a in plan.actions] == [(Verb.GRANT, IMAGE)]
    assert plan.notes == (f"cannot grant {GONE}/{A}: image {GONE} does not exist in eu-west-1",)
    assert f"image {GONE} does not exist in eu-west-1" in render_table(report)
    assert report_json(report)["images_not_found"] == [GONE]


def test_revokes_are_planned_only_on_a_report_of_every_stack() -> None:
    pairs = declared(("S1", "Share", f"{IMAGE}/{A}"))
    listed = Listed({IMAGE: frozenset({A, B, C})})
    narrow = build_report(pairs, listed, [C])
    with pytest.raises(ValueError, match="--all-stacks"):
        make_plan(narrow, revoke_unmanaged=True)
    assert make_plan(narrow).actions == ()
    plan = make_plan(build_report(pairs, listed, [C], all_stacks=True), revoke_unmanaged=True)
    assert [(a.verb, a.account_id) for a in plan.actions] == [(Verb.REVOKE, B)]
    assert f"revoke  {IMAGE}  {B}  (unmanaged)" in render_plan(plan)


def test_nothing_declared_reads_as_in_sync() -> None:
    report = build_report(Declared((), ()), Listed({}), all_stacks=True, region="us-east-1")
    assert render_table(report) == (
        "Read 0 stacks in us-east-1 (every stack that holds a share).\n\n"
        "In sync: no shares declared.\n"
    )


def test_many_stacks_are_named_briefly() -> None:
    names = [f"Stack{n:02}" for n in range(12)]
    report = build_report(
        declared(*[(name, "Share", f"{IMAGE}/{A}") for name in names[:1]]),
        Listed({IMAGE: frozenset({A})}),
    )
    report = Report(report.rows, tuple(names), region="us-east-1")
    first_line = render_table(report).splitlines()[0]
    assert first_line == (
        "Read 12 stacks in us-east-1: Stack00, Stack01, Stack02, Stack03, Stack04, and 7 more."
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_after_a_moment_only() -> None:
    now = [0.0]
    terminal, pipe = _Terminal(), io.StringIO()
    on_terminal = ProgressLine(terminal, delay_seconds=0.5, clock=lambda: now[0])
    on_pipe = ProgressLine(pipe, delay_seconds=0.5, clock=lambda: now[0])
    for progress in (on_terminal, on_pipe):
        progress("reading stack 1/2")
    assert terminal.getvalue() == ""
    now[0] = 1.0
    for progress in (on_terminal, on_pipe):
        progress("reading stack 2/2")
        progress.done()
    assert terminal.getvalue() == "\r\x1b[Kreading stack 2/2\r\x1b[K"
    assert pipe.getvalue() == ""


def test_state_values_are_the_documented_ones() -> None:
    assert [str(s) for s in State] == [
        "ok",
        "missing",
        "unmanaged",
        "ignored",
        "duplicate",
        "not-a-share",
        "abandoned",
    ]
