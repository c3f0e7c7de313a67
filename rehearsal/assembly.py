"""Synthesize an app with the real CDK CLI and read what Lambda and CloudFormation would get."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESOURCE_TYPE = "Custom::WorkspaceImagePermission"


@dataclass(frozen=True)
class SharingFunction:
    """What Lambda would run: from the function's template entry and its asset folder."""

    logical_id: str
    handler: str
    timeout_seconds: int
    environment: dict[str, str]
    asset_dir: Path


@dataclass(frozen=True)
class ShareResource:
    """One Custom::WorkspaceImagePermission as declared in the template."""

    logical_id: str
    properties: dict[str, Any]
    function: SharingFunction
    depends_on: tuple[str, ...] = ()
    retain: bool = False
    service_timeout_seconds: int = 3600


@dataclass(frozen=True)
class StackTemplate:
    """One stack's template with its share resources resolved to their functions."""

    name: str
    template: dict[str, Any]
    shares: dict[str, ShareResource] = field(default_factory=dict)


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


def read_stacks(outdir: Path) -> list[StackTemplate]:
    """Every stack in the cloud assembly at ``outdir``, with its shares resolved."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template_file = artifact["properties"]["templateFile"]
        template = json.loads((outdir / template_file).read_text())
        stacks.append(StackTemplate(name, template, _shares(template, outdir)))
    return stacks


def _function(template: dict[str, Any], logical_id: str, outdir: Path) -> SharingFunction:
    resource = template["Resources"][logical_id]
    properties = resource["Properties"]
    return SharingFunction(
        logical_id=logical_id,
        handler=properties["Handler"],
        timeout_seconds=int(properties.get("Timeout", 3)),
        environment=dict(properties.get("Environment", {}).get("Variables", {})),
        asset_dir=outdir / resource["Metadata"]["aws:asset:path"],
    )


def _shares(template: dict[str, Any], outdir: Path) -> dict[str, ShareResource]:
    resources = template.get("Resources", {})
    shares = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != RESOURCE_TYPE:
            continue
        properties = dict(resource["Properties"])
        token = properties.pop("ServiceToken")
        function_id = token["Fn::GetAtt"][0]
        depends_on = resource.get("DependsOn", [])
        shares[logical_id] = ShareResource(
            logical_id=logical_id,
            properties={k: v for k, v in properties.items() if k != "ServiceTimeout"},
            function=_function(template, function_id, outdir),
            depends_on=tuple([depends_on] if isinstance(depends_on, str) else depends_on),
            retain=resource.get("DeletionPolicy") == "Retain",
            service_timeout_seconds=int(properties.get("ServiceTimeout", 3600)),
        )
    return shares
