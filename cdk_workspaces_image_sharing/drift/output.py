"""How a report and a repair are shown: a table for people, a JSON document for machines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdk_workspaces_image_sharing.drift.repair import Outcome, Plan
from cdk_workspaces_image_sharing.drift.report import Report, Row, State

SHAPE_VERSION = 2
COMMAND = "workspace-image-shares"
_LISTED_STACKS = 5

HINTS = {
    State.MISSING: f"missing: `{COMMAND} repair` with the same stack options grants it",
    State.UNMANAGED: (
        "unmanaged: declare it in a stack; or, if it is shared on purpose, pass --ignore-account;"
        f"\n    or revoke it: `{COMMAND} repair --all-stacks --revoke-unmanaged`"
    ),
    State.DUPLICATE: "duplicate: keep the pair in one resource; deleting either one revokes it",
    State.NOT_A_SHARE: (
        "not-a-share: the resource's Create failed and it shares nothing;"
        "\n    fix its properties and update the stack, or remove the resource"
    ),
    State.ABANDONED: (
        "abandoned: held by an organization share configuration CloudFormation no longer"
        "\n    has; the stack's next scheduled run or Delete releases it"
    ),
}


def report_json(report: Report) -> dict[str, Any]:
    """The report as the documented JSON document."""
    return {
        "version": SHAPE_VERSION,
        "region": report.region,
        "scope": {
            "all_stacks": report.all_stacks,
            "stacks": list(report.stacks),
            "ignored_accounts": list(report.ignored_accounts),
        },
        "in_sync": report.in_sync,
        "counts": report.counts,
        "images_not_found": list(report.images_not_found),
        "rows": [row.to_json() for row in report.rows],
    }


def repair_json(
    plan: Plan, outcomes: Sequence[Outcome], report: Report, *, dry_run: bool
) -> dict[str, Any]:
    """A repair as JSON: its actions and the report read after it (before it, on a dry run)."""
    return {
        "version": SHAPE_VERSION,
        "dry_run": dry_run,
        "actions": [
            {
                "action": str(o.action.verb),
                "image_id": o.action.image_id,
                "account_id": o.action.account_id,
                "result": str(o.result),
                "error": o.error,
            }
            for o in outcomes
        ],
        "notes": list(plan.notes),
        "report": report_json(report),
    }


def _declared_by(row: Row) -> str:
    names = ", ".join(f"{ref.stack}/{ref.logical_id}" for ref in row.managed_by) or "-"
    if row.state is State.NOT_A_SHARE:
        return f'{names}: physical ID "{row.physical_id}"'
    return names


def _scope(report: Report) -> str:
    count = len(report.stacks)
    what = f"Read {count} stack{'s' if count != 1 else ''}"
    if report.region:
        what += f" in {report.region}"
    if report.all_stacks:
        what += " (every stack that holds a share)"
    names = list(report.stacks[:_LISTED_STACKS])
    if len(report.stacks) > _LISTED_STACKS:
        names.append(f"and {len(report.stacks) - _LISTED_STACKS} more")
    return f"{what}: {', '.join(names)}." if names else f"{what}."


def render_table(report: Report) -> str:
    """The report as a table for people, with a summary line and how to fix what is wrong."""
    lines = [_scope(report)]
    if report.rows:
        table = [("IMAGE", "ACCOUNT", "STATE", "DECLARED BY")]
        previous = None
        for row in report.rows:
            image = row.image_id or "-"
            table.append(
                (
                    "" if image == previous and row.image_id else image,
                    row.account_id or "-",
                    str(row.state),
                    _declared_by(row),
                )
            )
            previous = image
        widths = [max(len(cells[i]) for cells in table) for i in range(3)]
        lines.append("")
        lines += [
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False))
            + "  "
            + cells[3]
            for cells in table
        ]
    lines.append("")
    lines += [
        f"image {image} does not exist in {report.region or 'this Region'}: "
        "its declared shares are missing"
        for image in report.images_not_found
    ]
    counts = ", ".join(f"{n} {state}" for state, n in report.counts.items() if n)
    if report.in_sync:
        lines.append(f"In sync: {counts or 'no shares declared'}.")
    else:
        lines.append(f"Drift: {counts}.")
        lines += [f"  {HINTS[state]}" for state in HINTS if report.rows_in(state)]
    return "\n".join(lines) + "\n"


def render_plan(plan: Plan, *, unmanaged_kept: int = 0) -> str:
    """What ``repair`` will do (or would do, on a dry run); ``unmanaged_kept`` unmanaged shares
    are not to be revoked."""
    lines = [f"  {action.describe()}" for action in plan.actions]
    lines = (["Plan:", *lines] if lines else ["Nothing to grant or revoke."]) + [
        f"  {note}" for note in plan.notes
    ]
    if unmanaged_kept:
        lines.append("Unmanaged shares are never revoked without --revoke-unmanaged.")
    return "\n".join(lines) + "\n"


def render_outcomes(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        text = f"{outcome.result}: {outcome.action.describe()}"
        lines.append(f"{text}: {outcome.error}" if outcome.error else text)
    return "\n".join(lines) + "\n" if lines else ""


def render_left(rows: Sequence[Row]) -> str:
    if not rows:
        return "Repaired: nothing that was to be fixed remains.\n"
    listed = "; ".join(f"{row.physical_id} {row.state}" for row in rows)
    return f"Still to fix ({len(rows)}): {listed}\n"


def skipped_revokes(count: int) -> str:
    return (
        f"Not revoking {count} unmanaged share{'s' if count != 1 else ''}: "
        "pass --yes to confirm (or answer yes at a terminal).\n"
    )
