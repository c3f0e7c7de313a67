"""Helpers of the drift tests: the scenario's stacks, running the command, its JSON shape.

The scenario, on one image: stack ``DriftFirst`` declares accounts A and B, stack
``DriftSecond`` declares A again (duplicate); B is then revoked by hand (missing) and C shared by
hand (unmanaged); stack ``DriftFailed`` kept the ID of a failed Create (not-a-share), and
``DriftGone`` is deleted (skipped).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_workspaces_image_sharing.drift.cli import main
from rehearsal.assembly import PROJECT_DIR
from rehearsal.local_aws import ACCOUNT_ID, REGION, LocalAws
from rehearsal.stack_engine import StackEngine
from tests.support.stacks import HandSetStack

A, B, C, D = "111122223333", "444455556666", "777788889999", "123123123123"
PLACEHOLDER_IMAGE_ID = "wsi-0placeholder"
FIRST, SECOND, FAILED, GONE = "DriftFirst", "DriftSecond", "DriftFailed", "DriftGone"
# crhelper's ID for a Create that set none: <stack name>_<logical ID>_<8 random characters>.
FAILED_CREATE_ID = f"{FAILED}_Share_7Q2LZK4M"
DOCS = PROJECT_DIR / "docs" / "drift.md"


@dataclass(frozen=True)
class Run:
    """One run of the command: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_command(*argv: str, stdin: str | None = None, **options: Any) -> Run:
    """``main(argv)`` in-process; ``stdin`` is typed at a terminal when given."""
    out, err = io.StringIO(), io.StringIO()
    terminal = _Terminal(stdin) if stdin is not None else io.StringIO()
    code = main(list(argv), stdin=terminal, stdout=out, stderr=err, **options)
    return Run(code, out.getvalue(), err.getvalue())


Runner = Callable[..., Run]


def hand_set_stack(aws: LocalAws, name: str, status: str) -> HandSetStack:
    """A stand-in stack a test fills by hand, readable through the local CloudFormation API."""
    stack = HandSetStack(
        stack_id=f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{name}/{uuid.uuid4()}",
        name=name,
        status=status,
    )
    aws.faults.stacks.register(stack)
    return stack


def local_environment(aws: LocalAws, home: Path) -> dict[str, str]:
    """The local endpoint's settings, with AWS config files that hold nothing."""
    return {
        **aws.environment,
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# -- the JSON shape documented in docs/drift.md ----------------------------------------------

STATES = {"ok", "missing", "unmanaged", "ignored", "duplicate", "not-a-share"}
_IMAGE_ID = re.compile(r"wsi-[0-9a-z]{9,63}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def _keys(where: str, value: Any, keys: Mapping[str, Callable[[Any], bool]]) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, found {value!r}"]
    problems = []
    if set(value) != set(keys):
        problems.append(f"{where}: keys {sorted(value)}, documented {sorted(keys)}")
    for key, check in keys.items():
        if key in value and not check(value[key]):
            problems.append(f"{where}.{key}: {value[key]!r} is not as documented")
    return problems


def _strings(check: Callable[[str], bool] = lambda _: True) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(isinstance(s, str) and check(s) for s in v)


def _is_image(v: Any) -> bool:
    return isinstance(v, str) and bool(_IMAGE_ID.fullmatch(v))


def _is_account(v: Any) -> bool:
    return isinstance(v, str) and bool(_ACCOUNT_ID.fullmatch(v))


def _row_problems(where: str, row: Any) -> list[str]:
    problems = _keys(
        where,
        row,
        {
            "image_id": lambda v: v is None or _is_image(v),
            "account_id": lambda v: v is None or _is_account(v),
            "physical_id": lambda v: isinstance(v, str) and v != "",
            "state": lambda v: v in STATES,
            "managed_by": lambda v: isinstance(v, list),
        },
    )
    if problems:
        return problems
    for number, ref in enumerate(row["managed_by"]):
        problems += _keys(
            f"{where}.managed_by[{number}]",
            ref,
            {
                "kind": lambda v: v == "stack-resource",
                "stack": lambda v: isinstance(v, str) and v != "",
                "logical_id": lambda v: isinstance(v, str) and v != "",
            },
        )
    share = row["image_id"] is not None
    if share != (row["account_id"] is not None) or share == (row["state"] == "not-a-share"):
        problems.append(f"{where}: image_id and account_id are null exactly for not-a-share")
    if share and row["physical_id"] != f"{row['image_id']}/{row['account_id']}":
        problems.append(f"{where}: physical_id is not <image_id>/<account_id>")
    declared = len(row["managed_by"])
    expected = {"unmanaged": 0, "ignored": 0, "ok": 1, "not-a-share": 1}.get(row["state"])
    if (expected is not None and declared != expected) or (
        row["state"] == "duplicate" and declared < 2
    ):
        problems.append(f"{where}: {declared} managed_by entries for state {row['state']}")
    return problems


def report_shape_problems(document: Any) -> list[str]:
    """Where a ``report --json`` document differs from the documented shape ([] when it does
    not)."""
    problems = _keys(
        "report",
        document,
        {
            "version": lambda v: v == 1,
            "region": lambda v: isinstance(v, str),
            "scope": lambda v: isinstance(v, dict),
            "in_sync": lambda v: isinstance(v, bool),
            "counts": lambda v: isinstance(v, dict),
            "images_not_found": _strings(lambda s: bool(_IMAGE_ID.fullmatch(s))),
            "rows": lambda v: isinstance(v, list),
        },
    )
    if problems:
        return problems
    problems += _keys(
        "report.scope",
        document["scope"],
        {
            "all_stacks": lambda v: isinstance(v, bool),
            "stacks": _strings(),
            "ignored_accounts": _strings(lambda s: bool(_ACCOUNT_ID.fullmatch(s))),
        },
    )
    problems += _keys(
        "report.counts",
        document["counts"],
        {state: lambda v: isinstance(v, int) and v >= 0 for state in STATES},
    )
    for number, row in enumerate(document["rows"]):
        problems += _row_problems(f"report.rows[{number}]", row)
    if problems:
        return problems
    states = [row["state"] for row in document["rows"]]
    if document["counts"] != {state: states.count(state) for state in STATES}:
        problems.append("report.counts does not count the rows' states")
    if document["in_sync"] != all(s in ("ok", "ignored") for s in states):
        problems.append("report.in_sync is not 'every row ok or ignored'")
    return problems


def repair_shape_problems(document: Any) -> list[str]:
    """Where a ``repair --json`` document differs from the documented shape."""
    problems = _keys(
        "repair",
        document,
        {
            "version": lambda v: v == 1,
            "dry_run": lambda v: isinstance(v, bool),
            "actions": lambda v: isinstance(v, list),
            "notes": _strings(),
            "report": lambda v: isinstance(v, dict),
        },
    )
    if problems:
        return problems
    for number, action in enumerate(document["actions"]):
        problems += _keys(
            f"repair.actions[{number}]",
            action,
            {
                "action": lambda v: v in ("grant", "revoke"),
                "image_id": _is_image,
                "account_id": _is_account,
                "result": lambda v: v in ("planned", "not-confirmed", "done", "failed"),
                "error": lambda v: v is None or isinstance(v, str),
            },
        )
    return problems + report_shape_problems(document["report"])


@dataclass(frozen=True)
class Scenario:
    """The scenario's image, its two deployed stacks, and the endpoint they live on."""

    image_id: str
    first: StackEngine
    second: StackEngine
    aws: LocalAws


def docs_example(name: str, document: Path = DOCS) -> str:
    """The fenced block that follows ``<!-- example: name -->`` in ``document`` (docs/drift.md
    unless given)."""
    text = document.read_text()
    match = re.search(rf"<!-- example: {name} -->\n```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert match, f"{document.name} has no example {name!r}"
    return match.group(1)
