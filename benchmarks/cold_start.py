"""Each function's cold start against its floor: the process that only makes the clients every
one of the function's events needs.

    python -m benchmarks.cold_start [--runs 40]

Each run is a fresh ``python -S`` of the function's runtime (Python 3.13 with ``.venv-lambda``'s
SDK, as the rehearsal runs it) with only the synthesized asset and the SDK on its path, from
process start to exit. Bytecode is not written, as Lambda's read-only ``/var/task`` cannot take
it: what the asset does not carry compiles at every cold start. A function's runs and its
floor's are interleaved, so a slow moment of the machine hits both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.timing import timed
from rehearsal.assembly import FunctionSpec, read_templates, synthesize
from rehearsal.lambda_python import lambda_python
from rehearsal.lambda_runtime import link_runtime_packages
from rehearsal.organization_stacks import synthesize_organization_app

REGION = "us-east-1"


@dataclass(frozen=True)
class Floor:
    """What every event of a function needs before it can act: the SDK and these clients."""

    clients: tuple[str, ...]

    @property
    def code(self) -> str:
        return "import boto3; " + "; ".join(f"boto3.client({c!r})" for c in self.clients)


# The per-pair function's every event calls WorkSpaces (only a Delete reads CloudFormation);
# the organization function's every run reads its ledger (DynamoDB) and calls WorkSpaces
# (Organizations only when it lists accounts, CloudFormation only on an Update or a revoke).
FLOORS = {
    "per-pair": Floor(("workspaces",)),
    "organization": Floor(("workspaces", "dynamodb")),
}


def _functions(work: Path) -> dict[str, FunctionSpec]:
    """The two functions as synthesized: the example app's and the organization example's."""
    synthesize(work / "pair")
    (pair_stack,) = read_templates(work / "pair")
    organization_stack = synthesize_organization_app(work / "organization").sharing
    found = {}
    for name, stack in (("per-pair", pair_stack), ("organization", organization_stack)):
        (logical_id,) = [
            key
            for key, resource in stack.template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"
            and resource["Properties"]["Handler"].startswith("sharing_functions.")
        ]
        found[name] = stack.function(logical_id)
    return found


def _spread(seconds: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(seconds),
        "fastest": min(seconds),
        "slowest": max(seconds),
    }


def measure_cold_starts(runs: int, work: Path) -> dict[str, dict[str, Any]]:
    """Per function: its handler module's import and its floor, each median with the fastest
    and slowest run, and what was run."""
    python, sdk = lambda_python()
    sdk_dir = sdk if sdk is not None else link_runtime_packages(work / "runtime")
    python_version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    results: dict[str, dict[str, Any]] = {}
    for name, function in _functions(work).items():
        module = function.handler.rsplit(".", 1)[0]
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,  # what the runtime's older SDK reads
            **{key: str(value) for key, value in function.environment.items()},
        }
        prelude = f"import sys; sys.path[:0] = [{str(function.asset_dir)!r}, {str(sdk_dir)!r}]; "
        handler = [str(python), "-S", "-c", prelude + f"import {module}"]
        floor = [str(python), "-S", "-c", prelude + FLOORS[name].code]
        timed(handler, env)  # warm the file cache for both
        timed(floor, env)
        handler_seconds, floor_seconds = [], []
        for _ in range(runs):
            handler_seconds.append(timed(handler, env))
            floor_seconds.append(timed(floor, env))
        results[name] = {
            "module": module,
            "floor_code": FLOORS[name].code,
            "handler": _spread(handler_seconds),
            "floor": _spread(floor_seconds),
            "python_version": python_version,
        }
        print(f"cold start {name}: {results[name]}", flush=True)
    return results


def _ms(figures: dict[str, float]) -> str:
    return (
        f"{figures['median'] * 1000:.0f} ({figures['fastest'] * 1000:.0f}-"
        f"{figures['slowest'] * 1000:.0f})"
    )


def ratio(figures: dict[str, Any]) -> float:
    """The function's median over its floor's."""
    return float(figures["handler"]["median"] / figures["floor"]["median"])


def cold_start_section(cold: dict[str, dict[str, Any]], runs: int) -> list[str]:
    """The cold-start table as markdown lines."""
    python_version = next(iter(cold.values()))["python_version"]
    lines = [
        "## Cold start",
        "",
        "Each function's cold start against its floor, the process that only makes the "
        "clients every one of its events needs. A fresh `python -S` of the function's runtime "
        f"(Python {python_version} and the older SDK of `.venv-lambda`) with only the "
        "synthesized asset (its modules' bytecode included) and the SDK on its path, process "
        "start to exit; no bytecode is written, as in Lambda, whose `/var/task` is read-only. "
        f"{runs} runs of each, the function and its floor interleaved; median, with the fastest "
        "and slowest run, in ms.",
        "",
        "| function | import | ms | floor | ms | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in cold.items():
        lines.append(
            f"| {name} | `import {figures['module']}` | {_ms(figures['handler'])} | "
            f"`{figures['floor_code']}` | {_ms(figures['floor'])} | {ratio(figures):.2f}x |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        cold = measure_cold_starts(args.runs, Path(folder))
    print("\n".join(cold_start_section(cold, args.runs)))


if __name__ == "__main__":
    main()
