"""``report`` and ``repair`` on the scenario of tests/support/drift.py, run in-process against
the local endpoint and the stand-in stacks."""

from __future__ import annotations

import json
import re
from typing import Any

from rehearsal.assembly import PROJECT_DIR
from tests.support.drift import (
    FAILED,
    FAILED_CREATE_ID,
    FIRST,
    SECOND,
    A,
    B,
    C,
    Runner,
    Scenario,
    docs_example,
    shape_problems,
)


def rows(document: dict[str, Any]) -> list[tuple[object, ...]]:
    """Each row's pair, state and declarers (construct IDs: the CDK's hash suffix dropped)."""
    return [
        (
            row["image_id"],
            row["account_id"],
            row["state"],
            [
                f"{ref['stack']}/{re.sub('[0-9A-F]{8}$', '', ref['logical_id'])}"
                for ref in row["managed_by"]
            ],
        )
        for row in document["rows"]
    ]


def test_report_names_each_drift_exactly(scenario: Scenario, cli: Runner) -> None:
    image = scenario.image_id
    table = cli("report", "--all-stacks")
    assert (table.code, table.err) == (1, "")
    document = cli("report", "--all-stacks", "--json")
    assert document.code == 1
    assert shape_problems(document.json()) == []
    assert rows(document.json()) == [
        (image, A, "duplicate", [f"{FIRST}/ShareA", f"{SECOND}/Share"]),
        (image, B, "missing", [f"{FIRST}/ShareB"]),
        (image, C, "unmanaged", []),
        (None, None, "not-a-share", [f"{FAILED}/Share"]),
    ]
    assert document.json()["rows"][-1]["physical_id"] == FAILED_CREATE_ID
    assert document.json()["scope"]["stacks"] == [FAILED, FIRST, SECOND]
    # docs/drift.md shows this very output, on its own image ID.
    docs_json = json.loads(docs_example("report-json"))
    docs_image = docs_json["rows"][0]["image_id"]
    assert json.loads(document.out.replace(image, docs_image)) == docs_json
    assert table.out.replace(image, docs_image) == docs_example("report-table")
    assert docs_example("report-table", PROJECT_DIR / "README.md") == docs_example("report-table")
    dry_run = cli("repair", "--all-stacks", "--revoke-unmanaged", "--dry-run")
    assert (dry_run.code, dry_run.err) == (1, "")
    assert dry_run.out.replace(image, docs_image) == docs_example("repair-dry-run")
    assert scenario.aws.shared_accounts(image) == {A, C}


def test_report_of_the_stacks_given_reads_only_them(scenario: Scenario, cli: Runner) -> None:
    image = scenario.image_id
    first = cli("report", "--stack", FIRST, "--json")
    assert first.code == 1
    assert rows(first.json()) == [
        (image, A, "ok", [f"{FIRST}/ShareA"]),
        (image, B, "missing", [f"{FIRST}/ShareB"]),
        (image, C, "unmanaged", []),
    ]
    both = cli("report", "--stack", FIRST, "--stack", SECOND, "--json")
    assert [row[2] for row in rows(both.json())] == ["duplicate", "missing", "unmanaged"]
    assert both.json()["scope"] == {
        "all_stacks": False,
        "stacks": [FIRST, SECOND],
        "ignored_accounts": [],
    }


def test_repair_grants_the_missing_share_and_leaves_the_unmanaged_one(
    scenario: Scenario, cli: Runner
) -> None:
    image = scenario.image_id
    docs_image = json.loads(docs_example("report-json"))["rows"][0]["image_id"]
    repair = cli("repair", "--stack", FIRST)
    assert (repair.code, repair.err) == (0, "")
    assert repair.out.replace(image, docs_image) == docs_example("repair-stack")
    assert scenario.aws.shared_accounts(image) == {A, B, C}
    # What is left is not repair's to fix: a duplicate, an unmanaged share, a failed Create.
    after = cli("report", "--all-stacks", "--json")
    assert after.code == 1
    assert [row[2] for row in rows(after.json())] == [
        "duplicate",
        "ok",
        "unmanaged",
        "not-a-share",
    ]
    assert cli("report", "--stack", FIRST).code == 1
    # The ignored account turns the first stack's report green.
    green = cli("report", "--stack", FIRST, "--ignore-account", C)
    assert (green.code, green.err) == (0, "")
    assert green.out.replace(image, docs_image) == docs_example("report-green")
    assert cli("report", "--stack", FIRST, "--ignore-account", C, "--json").json()["in_sync"]


def test_revoking_unmanaged_shares_needs_every_stack_and_a_yes(
    scenario: Scenario, cli: Runner
) -> None:
    image, aws = scenario.image_id, scenario.aws
    narrow = cli("repair", "--stack", FIRST, "--revoke-unmanaged", "--yes")
    assert narrow.code == 2
    assert narrow.err == (
        "workspace-image-shares: error: --revoke-unmanaged needs --all-stacks: a narrower "
        "scope cannot know what other stacks declare\n"
    )
    dry = cli("repair", "--all-stacks", "--revoke-unmanaged", "--yes", "--dry-run", "--json")
    assert dry.code == 1
    assert shape_problems(dry.json(), "repair") == []
    assert [(a["action"], a["account_id"], a["result"]) for a in dry.json()["actions"]] == [
        ("grant", B, "planned"),
        ("revoke", C, "planned"),
    ]
    assert "Dry run: nothing was changed." in dry.err
    assert aws.shared_accounts(image) == {A, C}
    unconfirmed = cli("repair", "--all-stacks", "--revoke-unmanaged")
    assert unconfirmed.code == 1
    assert f"revoke  {image}  {C}  (unmanaged)" in unconfirmed.out
    assert "Not revoking 1 unmanaged share: pass --yes to confirm" in unconfirmed.out
    assert f"Still to fix (1): {image}/{C} unmanaged" in unconfirmed.out
    assert aws.shared_accounts(image) == {A, B, C}
    confirmed = cli("repair", "--all-stacks", "--revoke-unmanaged", "--yes", "--json")
    assert confirmed.code == 0
    assert shape_problems(confirmed.json(), "repair") == []
    assert [(a["action"], a["result"]) for a in confirmed.json()["actions"]] == [("revoke", "done")]
    assert aws.shared_accounts(image) == {A, B}


def test_an_interactive_yes_revokes(scenario: Scenario, cli: Runner) -> None:
    image, aws = scenario.image_id, scenario.aws
    declined = cli("repair", "--all-stacks", "--revoke-unmanaged", stdin="n\n")
    assert declined.code == 1
    assert declined.err.endswith("Revoke the 1 unmanaged share above? [y/N] ")
    assert aws.shared_accounts(image) == {A, B, C}
    accepted = cli("repair", "--all-stacks", "--revoke-unmanaged", stdin="yes\n")
    assert accepted.code == 0, accepted.out
    assert aws.shared_accounts(image) == {A, B}
