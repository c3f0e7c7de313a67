"""Helpers of the drift tests: the scenario's stacks, running the command, its JSON schemas.

The scenario, on one image: stack ``DriftFirst`` declares accounts A and B, stack
``DriftSecond`` declares A again (duplicate); B is then revoked by hand (missing) and C shared by
hand (unmanaged); stack ``DriftFailed`` kept the ID of a failed Create (not-a-share), and
``DriftGone`` is deleted (skipped).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from cdk_workspaces_image_sharing.drift.cli import main
from rehearsal.assembly import PROJECT_DIR
from rehearsal.local_aws import LocalAws
from rehearsal.stack_engine import StackEngine

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


def local_environment(aws: LocalAws, home: Path) -> dict[str, str]:
    """The local endpoint's settings, with AWS config files that hold nothing."""
    return {
        **aws.environment,
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# -- the JSON shape: the schemas shipped in cdk_workspaces_image_sharing/drift/schemas ---------

SCHEMAS = resources.files("cdk_workspaces_image_sharing.drift") / "schemas"


def load_schema(name: str) -> dict[str, Any]:
    """The shipped ``<name>.schema.json`` (``report`` or ``repair``)."""
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return schema


def as_emitted(schema: Any) -> Any:
    """A shipped schema narrowed to what this release prints: every object closed (a field the
    schema does not name is an error here, not a later addition) and no ``laterKind`` of
    ``managed_by`` entry (only the kinds the schema names)."""
    if isinstance(schema, list):
        return [as_emitted(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    narrowed = {key: as_emitted(value) for key, value in schema.items()}
    if "laterKind" in narrowed.get("$defs", {}):
        narrowed["$defs"]["laterKind"] = False
    if schema.get("type") == "object" and "properties" in schema:
        narrowed.setdefault("additionalProperties", False)
    return narrowed


def _registry(narrow: Callable[[Any], Any]) -> Registry[Any]:
    """The schemas by file name: repair's ``report`` is a ``$ref`` to ``report.schema.json``."""
    return Registry().with_resources(
        (f"{name}.schema.json", DRAFT202012.create_resource(narrow(load_schema(name))))
        for name in ("report", "repair")
    )


CONTRACT, EMITTED = _registry(lambda schema: schema), _registry(as_emitted)


def shape_problems(document: Any, name: str = "report", *, contract: bool = False) -> list[str]:
    """Where a ``<name> --json`` document breaks its schema ([] where it does not): the shipped
    schema with ``contract``, else the schema as this release prints it (``as_emitted``)."""
    registry = CONTRACT if contract else EMITTED
    schema = registry.contents(f"{name}.schema.json")
    errors = Draft202012Validator(schema, registry=registry).iter_errors(document)
    return [f"{error.json_path}: {error.message}" for error in errors]


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
