"""The JSON schemas shipped with the command: valid draft 2020-12 documents that accept the
documented example, reject what breaks the shape, and name the fields docs/drift.md lists."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tests.support.drift import (
    DOCS,
    EMITTED,
    B,
    docs_example,
    load_schema,
    shape_problems,
)

Edit = Callable[[dict[str, Any]], object]


def report_example() -> dict[str, Any]:
    """The ``report --json`` document of docs/drift.md: duplicate, missing, unmanaged and
    not-a-share rows."""
    document: dict[str, Any] = json.loads(docs_example("report-json"))
    return document


def repair_example(dry_run: bool = False) -> dict[str, Any]:
    image = report_example()["rows"][0]["image_id"]
    return {
        "version": 2,
        "dry_run": dry_run,
        "actions": [
            {
                "action": "grant",
                "image_id": image,
                "account_id": B,
                "result": "planned" if dry_run else "done",
                "error": None,
            }
        ],
        "notes": [],
        "report": report_example(),
    }


def edited(document: dict[str, Any], edit: Edit) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    edit(changed)
    return changed


def test_schemas_are_draft_2020_12_and_accept_the_documented_examples() -> None:
    for name in ("report", "repair"):
        Draft202012Validator.check_schema(load_schema(name))
        # The schemas name their draft; the documents the command prints carry no "$schema".
        assert load_schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert EMITTED.contents("report.schema.json")["additionalProperties"] is False
    for contract in (True, False):
        assert shape_problems(report_example(), contract=contract) == []
        for dry_run in (True, False):
            assert shape_problems(repair_example(dry_run), "repair", contract=contract) == []


def _row(number: int, **fields: object) -> Edit:
    return lambda document: document["rows"][number].update(fields)


def _action(**fields: object) -> Edit:
    return lambda document: document["actions"][0].update(fields)


BROKEN_REPORTS: dict[str, tuple[Edit, str]] = {
    "a missing field": (lambda d: d["rows"][1].pop("state"), "$.rows[1]"),
    "a wrong state": (_row(1, state="drifted"), "$.rows[1].state"),
    "another version": (lambda d: d.update(version=1), "$.version"),
    "a state missing from counts": (lambda d: d["counts"].pop("ignored"), "$.counts"),
    "a count of no state": (lambda d: d["counts"].update(drifted=0), "$.counts"),
    "a negative count": (lambda d: d["counts"].update(ok=-1), "$.counts.ok"),
    "an account ID that is not one": (_row(2, account_id="7777"), "$.rows[2].account_id"),
    "an ok row with two declarers": (_row(0, state="ok"), "$.rows[0].managed_by"),
    "an unmanaged row with a declarer": (_row(1, state="unmanaged"), "$.rows[1].managed_by"),
    "a not-a-share row with a pair": (_row(3, image_id="wsi-81bc28832"), "$.rows[3].image_id"),
    "a share row without a pair": (_row(0, image_id=None), "$.rows[0].image_id"),
    "a pair's row with another physical ID": (_row(0, physical_id="x"), "$.rows[0].physical_id"),
    "in sync with drift": (lambda d: d.update(in_sync=True), "$.rows[0].state"),
    "a stack resource with no stack": (
        lambda d: d["rows"][0]["managed_by"][0].pop("stack"),
        "$.rows[0].managed_by[0]",
    ),
}


@pytest.mark.parametrize("name", BROKEN_REPORTS)
def test_a_report_that_breaks_the_shape_is_rejected(name: str) -> None:
    edit, where = BROKEN_REPORTS[name]
    document = edited(report_example(), edit)
    for contract in (True, False):
        problems = shape_problems(document, contract=contract)
        assert any(problem.startswith(f"{where}: ") for problem in problems), problems


def test_a_repair_is_checked_down_to_its_report() -> None:
    """``report`` is a ``$ref`` to report.schema.json: a broken row inside it is found."""
    broken_row = edited(repair_example(), lambda d: d["report"]["rows"][1].update(state="x"))
    assert shape_problems(broken_row, "repair", contract=True) == [
        "$.report.rows[1].state: 'x' is not one of "
        "['ok', 'missing', 'unmanaged', 'ignored', 'duplicate', 'not-a-share', 'abandoned']"
    ]
    no_report = edited(repair_example(), lambda d: d.pop("report"))
    assert shape_problems(no_report, "repair", contract=True) == [
        "$: 'report' is a required property"
    ]
    failed_silently = edited(repair_example(), lambda d: d["actions"][0].update(result="failed"))
    assert shape_problems(failed_silently, "repair", contract=True) == [
        "$.actions[0].error: None is not of type 'string'"
    ]
    dry_but_done = edited(repair_example(dry_run=True), lambda d: d.update(dry_run=False))
    assert shape_problems(dry_but_done, "repair", contract=True) == [
        "$.actions[0].result: 'planned' should not be valid under {'const': 'planned'}"
    ]
    unconfirmed_grant = edited(repair_example(), _action(result="not-confirmed"))
    assert shape_problems(unconfirmed_grant, "repair", contract=True) == [
        "$.actions[0].action: 'revoke' was expected"
    ]


def test_later_fields_and_kinds_meet_the_contract_but_not_this_release() -> None:
    """Version 1 may gain fields and ``managed_by`` kinds (consumers skip what they do not
    know), so the shipped schemas accept them; what this release prints has neither."""
    later_kind = {"kind": "account-factory", "portfolio": "port-exampleid"}
    with_later_kind = edited(
        report_example(), lambda d: d["rows"][0]["managed_by"].append(later_kind)
    )
    with_later_field = edited(report_example(), lambda d: d["scope"].update(profile="admin"))
    for document in (with_later_kind, with_later_field):
        assert shape_problems(document, contract=True) == []
        repair = {**repair_example(), "report": document}
        assert shape_problems(repair, "repair", contract=True) == []
    assert shape_problems(with_later_kind) == [
        f"$.rows[0].managed_by[2]: {later_kind!r} is not valid under any of the given schemas"
    ]
    assert shape_problems(with_later_field) == [
        "$.scope: Additional properties are not allowed ('profile' was unexpected)"
    ]
    # A later kind still has to say which it is.
    no_kind = edited(report_example(), lambda d: d["rows"][0]["managed_by"][0].clear())
    assert shape_problems(no_kind, contract=True) == [
        "$.rows[0].managed_by[0]: {} is not valid under any of the given schemas"
    ]


def schema_fields(schema: dict[str, Any], node: Any, path: str = "") -> set[str]:
    """The field paths a schema names, as docs/drift.md writes them (``rows[].state``)."""
    if isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    if not isinstance(node, dict):
        return set()
    fields = set()
    for key, value in node.get("properties", {}).items():
        name = f"{path}.{key}" if path else key
        fields |= {name, *schema_fields(schema, value, name)}
    if "items" in node:
        fields |= schema_fields(schema, node["items"], f"{path}[]")
    for branch in node.get("anyOf", []):
        fields |= schema_fields(schema, branch, path)
    return fields


def test_the_docs_table_names_the_report_schemas_fields() -> None:
    section = DOCS.read_text().split("\n## JSON\n")[1].split("\n## ")[0]
    table = set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", section, re.MULTILINE))
    report = load_schema("report")
    assert table == schema_fields(report, report)


def test_the_docs_python_validates_a_repair() -> None:
    namespace: dict[str, Any] = {"document": repair_example()}
    exec(docs_example("validate-python"), namespace)
    broken = edited(repair_example(), lambda d: d["report"].pop("rows"))
    with pytest.raises(ValidationError, match="'rows' is a required property"):
        exec(docs_example("validate-python"), {"document": broken})
