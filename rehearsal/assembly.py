"""Synthesize an app with the real CDK CLI and read what Lambda and CloudFormation would get."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE

PROJECT_DIR = Path(__file__).resolve().parent.parent
ASSET_PATH_METADATA = "aws:asset:path"  # where an asset (code, nested template) sits


@dataclass(frozen=True)
class FunctionSpec:
    """What Lambda would run: from a function's template entry and its asset folder."""

    logical_id: str
    handler: str
    timeout_seconds: int
    environment: dict[str, str]
    asset_dir: Path

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What tells two functions' code and settings apart (the environment aside)."""
        return (
            self.handler,
            str(self.asset_dir),
            self.timeout_seconds,
            json.dumps(self.environment, sort_keys=True),
        )


@dataclass(frozen=True)
class TemplateShare:
    """One Custom::WorkspaceImagePermission as declared in the template."""

    logical_id: str
    properties: dict[str, Any]
    retain: bool = False


@dataclass(frozen=True)
class StackTemplate:
    """One stack's template, read from a cloud assembly folder."""

    name: str
    template: dict[str, Any]
    outdir: Path
    shares: dict[str, TemplateShare] = field(default_factory=dict)

    def function(self, logical_id: str) -> FunctionSpec:
        """The Lambda function ``logical_id`` of this template."""
        resource = self.template["Resources"][logical_id]
        properties = resource["Properties"]
        return FunctionSpec(
            logical_id=logical_id,
            handler=properties["Handler"],
            timeout_seconds=int(properties.get("Timeout", 3)),
            environment=dict(properties.get("Environment", {}).get("Variables", {})),
            asset_dir=self.outdir / resource["Metadata"][ASSET_PATH_METADATA],
        )

    def with_values(self, replacements: dict[str, str]) -> StackTemplate:
        """The same template with every string value equal to a key replaced (e.g. a placeholder
        image ID by one the local endpoint made)."""

        def swap(value: Any) -> Any:
            if isinstance(value, str):
                return replacements.get(value, value)
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            if isinstance(value, list):
                return [swap(v) for v in value]
            return value

        template = swap(self.template)
        return StackTemplate(self.name, template, self.outdir, shares_of(template))


def cdk_environment() -> dict[str, str]:
    """The environment for the CDK CLI: the virtualenv first on PATH (Node 24, its Python),
    no AWS credentials needed."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return env


def synthesize(outdir: Path, app: str | None = None, context: dict[str, str] | None = None) -> None:
    """Run ``cdk synth`` with the CLI pinned in package.json; ``app`` defaults to cdk.json's."""
    command = ["npx", "--no-install", "cdk", "synth", "--quiet", "--output", str(outdir)]
    if app:
        command += ["--app", app]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=cdk_environment(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{result.stderr[-3000:]}")


def read_templates(outdir: Path) -> list[StackTemplate]:
    """Every stack in the cloud assembly at ``outdir``."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template_file = artifact["properties"]["templateFile"]
        template = json.loads((outdir / template_file).read_text())
        stacks.append(StackTemplate(name, template, outdir, shares_of(template)))
    return stacks


def shares_of(template: dict[str, Any]) -> dict[str, TemplateShare]:
    """The per-pair share resources a template declares."""
    return {
        logical_id: TemplateShare(
            logical_id,
            {
                key: value
                for key, value in resource["Properties"].items()
                if key not in ("ServiceToken", "ServiceTimeout")
            },
            retain=resource.get("DeletionPolicy") == "Retain",
        )
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == PAIR_RESOURCE_TYPE
    }
