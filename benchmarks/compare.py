"""Benchmark a share made with this library against hand-written ``AwsCustomResource`` calls,
in one run on one machine, and write the figures as a markdown table.

    python -m benchmarks.compare [--runs 5] [--lifecycle-runs 1] [--output docs/benchmark.md]

Measures (medians over ``--runs``): synth time, template size and resources per share for 1,
10 and 100 shares; the Lambda asset's zipped size; each function's cold start against its floor
(benchmarks.cold_start); per event, handler time and the WorkSpaces and
CloudFormation calls against the minimum, through the stand-in stack engine; the lifecycle of
495 shares through the stand-in (create, image change, delete: calls, wall time, peak memory).
See benchmarks.lifecycle for how calls are counted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.cold_start import cold_start_section, measure_cold_starts, ratio
from benchmarks.lifecycle import EVENTS, SHARES, measure_events
from benchmarks.share_apps import MODES
from benchmarks.timing import timed
from rehearsal.assembly import PROJECT_DIR, cdk_environment

SHARE_COUNTS = (1, 10, 100)
STACK_RESOURCE_LIMIT = 500  # CloudFormation's
COLD_START_TARGET = 1.05
# The lifecycle's stack operations, as benchmarks.lifecycle names them.
PHASES = ("create", "image change", "delete")
PHASE_TITLES = {
    "create": "Deploy: {shares} shares on image A",
    "image change": "Deploy: the image changed to B",
    "delete": "Delete the stack",
}


def median(values: list[float]) -> float:
    return statistics.median(values)


def zipped_size(folder: Path) -> int:
    """Bytes of ``folder`` zipped with deflate, as the CDK uploads a Lambda asset."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def synthesize(mode: str, count: int, outdir: Path) -> float:
    return timed([sys.executable, "-m", "benchmarks.share_apps", mode, str(count), str(outdir)])


def template_figures(outdir: Path) -> dict[str, Any]:
    template_path = outdir / "Shares.template.json"
    template = json.loads(template_path.read_text())
    kinds = Counter(r["Type"] for r in template["Resources"].values())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assets = [outdir / f["Metadata"]["aws:asset:path"] for f in functions]
    return {
        "bytes": template_path.stat().st_size,
        "resources": sum(kinds.values()),
        "asset_bytes": sum(zipped_size(a) for a in assets),
    }


def measure_synth(runs: int, work: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Synth of each mode at each count, the modes interleaved run by run (so a slow moment of
    the machine hits both): the median, and the spread (fastest and slowest run)."""
    seconds: dict[tuple[str, int], list[float]] = {}
    for count in SHARE_COUNTS:
        for run in range(runs):
            for mode in MODES:
                outdir = work / f"{mode}-{count}-{run}"
                seconds.setdefault((mode, count), []).append(synthesize(mode, count, outdir))
    results = {}
    for (mode, count), measured in seconds.items():
        outdir = work / f"{mode}-{count}-{runs - 1}"
        results[(mode, count)] = {
            "seconds": median(measured),
            "fastest": min(measured),
            "slowest": max(measured),
            **template_figures(outdir),
        }
        print(f"synth {mode} x{count}: {results[(mode, count)]}", flush=True)
    return results


def slower_beyond_spread(figures: dict[str, Any], alternative: dict[str, Any]) -> bool:
    """Whether this library's synth is slower than the alternative's beyond the measurement's
    spread: its fastest run slower than the alternative's slowest."""
    return bool(figures["fastest"] > alternative["slowest"])


def measure_lifecycle(runs: int, shares: int, work: Path) -> dict[str, Any]:
    """The lifecycle of ``shares`` shares (benchmarks.lifecycle), each run in a process of its
    own: its figures, with medians of the times over ``runs`` and the largest peaks."""
    results: list[dict[str, Any]] = []
    for run in range(runs):
        output = work / f"lifecycle-{run}.json"
        started = time.perf_counter()
        command = [sys.executable, "-m", "benchmarks.lifecycle", "--shares", str(shares)]
        subprocess.run(
            [*command, "--output", str(output)],
            cwd=PROJECT_DIR,
            env=cdk_environment(),
            check=True,
        )
        figures = json.loads(output.read_text())
        figures["total_seconds"] = time.perf_counter() - started
        results.append(figures)
    figures = results[-1]
    for phase in PHASES:
        calls = [(r[phase]["workspaces"], r[phase]["cloudformation"]) for r in results]
        if any(c != calls[0] for c in calls):
            raise RuntimeError(f"the {phase} made different calls from run to run: {calls}")
        for key in ("seconds", "check_seconds", "handler_seconds"):
            figures[phase][key] = median([r[phase][key] for r in results])
    for key in ("total_seconds", "synth_seconds"):
        figures[key] = median([r[key] for r in results])
    for key in ("process", "synth", "lambda"):
        figures["peak_mib"][key] = max(r["peak_mib"][key] for r in results)
    figures["runs"] = runs
    print(f"lifecycle: {figures}", flush=True)
    return figures


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    node = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, env=cdk_environment()
    ).stdout.strip()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; Node {node}"
    )


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


SYNTH_SLOWER = (
    "- **Synth time** is {worst} slower at {counts} share(s). No bundling runs at synth (the "
    "handler folder, crhelper vendored in it, is the asset as it is). What is left is the "
    "Python side of the jsii bridge: each question to the CDK is a round trip to its Node "
    "process (about 0.3 ms here), and each share is a Python construct that asks a few, while "
    "AwsCustomResource builds its constructs inside Node; and before synthesis the concurrency "
    "lanes read the stack's tree once (three round trips a construct) to leave out any link "
    "that would close a dependency cycle. Stack-level facts are read once per stack and the "
    "lanes' aspect is called once, not for every construct."
)
TEMPLATE_LARGER = (
    "- **Template size** is larger at {counts} share(s): the function's fixed part is bigger "
    "than AwsCustomResource's: its own log group (30-day retention), an EventInvokeConfig (no "
    "Lambda retries), a policy that also grants the CloudFormation reads the Delete makes, "
    "and the reasons of its cdk-nag suppressions in the metadata. Each share then takes one "
    "resource where AwsCustomResource takes a `Custom::AWS` and an IAM policy, so from a few "
    "shares on the template is smaller."
)


def worse_than_alternative(synth: dict[tuple[str, int], dict[str, Any]]) -> list[str]:
    """Why each figure worse than AwsCustomResource's is worse, and what would close it."""
    ours, theirs = MODES
    slower = [c for c in SHARE_COUNTS if slower_beyond_spread(synth[(ours, c)], synth[(theirs, c)])]
    larger = [c for c in SHARE_COUNTS if synth[(ours, c)]["bytes"] > synth[(theirs, c)]["bytes"]]
    lines = []
    if slower:
        worst = max(synth[(ours, c)]["seconds"] / synth[(theirs, c)]["seconds"] for c in slower)
        counts = ", ".join(map(str, slower))
        lines.append(SYNTH_SLOWER.format(worst=f"up to {(worst - 1) * 100:.0f}%", counts=counts))
    if larger:
        lines.append(TEMPLATE_LARGER.format(counts=", ".join(map(str, larger))))
    return ["", "## Where it is worse than AwsCustomResource", "", *lines] if lines else []


def total(calls: dict[str, int]) -> int:
    return sum(calls.values())


def describe_calls(calls: dict[str, int]) -> str:
    """``3 (DescribeStacks 2, ListStackResources 1)``, or ``0``."""
    if not calls:
        return "0"
    return f"{total(calls)} ({', '.join(f'{name} {n}' for name, n in calls.items())})"


def at_minimum(figures: dict[str, Any]) -> bool:
    return bool(
        total(figures["workspaces"]) <= figures["minimum_workspaces"]
        and total(figures["cloudformation"]) <= figures["minimum_cloudformation"]
    )


def event_section(events: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "## Per event, through the stand-in",
        "",
        "One share (the example app) taken through the stand-in stack engine "
        "(`rehearsal/`): Create; an Update that keeps ImageId and SharedAccountId (only its "
        "ServiceTimeout changed); an Update to another account, then the cleanup Delete of the "
        "old pair (the stack is `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`); the stack's deletion "
        "(`DELETE_IN_PROGRESS`). Calls are the requests the local endpoint received, by "
        "operation, while the event ran (retries would count; none happened). Handler time is "
        "the invocation's in a warm Lambda-like Python 3.13 process, answering the presigned "
        "S3 URL included.",
        "",
        "| event | handler ms | WorkSpaces calls | CloudFormation calls | minimum "
        "(WorkSpaces / CloudFormation) | at the minimum |",
        "|---|---|---|---|---|---|",
    ]
    for name in EVENTS:
        figures = events[name]
        lines.append(
            f"| {name} | {figures['seconds'] * 1000:.0f} | "
            f"{describe_calls(figures['workspaces'])} | "
            f"{describe_calls(figures['cloudformation'])} | "
            f"{figures['minimum_workspaces']} / {figures['minimum_cloudformation']} | "
            f"{'yes' if at_minimum(figures) else 'no'} |"
        )
    return [
        *lines,
        "",
        "Minimum: Create 1/0, Update unchanged 0/0, Update new account 1/0, Delete 1 WorkSpaces "
        "call plus the CloudFormation reads that tell whether another live resource of the "
        "stack holds the pair: DescribeStacks, then every ListStackResources page (100 "
        "resources a page) unless the stack is `DELETE_IN_PROGRESS` or `ROLLBACK_IN_PROGRESS`.",
        "",
    ]


def lifecycle_section(lifecycle: dict[str, Any]) -> list[str]:
    shares = lifecycle["shares"]
    resources = lifecycle["resources"]
    ceiling = " (the per-stack ceiling)" if resources == STACK_RESOURCE_LIMIT else ""
    lines = [
        f"## Lifecycle of {shares} shares",
        "",
        f"`WorkspaceImageShare` with {shares} accounts{ceiling}, through the stand-in: deployed "
        "on image A; the image changed to B (an Update per share, then the cleanup Delete of "
        f"each old ID); the stack deleted. At most {lifecycle['peak_concurrency']} events ran "
        "at once (the DependsOn lanes), each in a Lambda-like process. After each operation "
        "the rehearsal's invariant check compared what WorkSpaces lists for both images with "
        "what the stack declares: it passed.",
        "",
        f"The template: {resources} resources, {lifecycle['template_bytes'] / 1024:.0f} KB "
        "compact, synthesized with `--no-version-reporting`"
        + (
            f". With CDK's default `AWS::CDK::Metadata` resource the stack would hold "
            f"{resources + 1} and the CDK refuses it (TooManyResourcesInStack): with default "
            f"settings the ceiling is {shares - 1} shares."
            if resources == STACK_RESOURCE_LIMIT
            else "."
        ),
        "",
        "| operation | events | WorkSpaces calls | CloudFormation calls | wall s | "
        "handler s (sum) | Lambda processes started | WorkSpaces lists after (A / B) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase in PHASES:
        figures = lifecycle[phase]
        events = ", ".join(f"{n} {kind}" for kind, n in figures["events"].items())
        listed = figures["listed"]
        lines.append(
            f"| {PHASE_TITLES[phase].format(shares=shares)} | {events} | "
            f"{describe_calls(figures['workspaces'])} | "
            f"{describe_calls(figures['cloudformation'])} | {figures['seconds']:.1f} | "
            f"{figures['handler_seconds']:.1f} | {figures['containers_started']} | "
            f"{listed['A']} / {listed['B']} |"
        )
    peak = lifecycle["peak_mib"]
    runs = lifecycle["runs"]
    change = lifecycle["image change"]
    listings = change["cloudformation"].get("ListStackResources", 0)
    return [
        *lines,
        "",
        "Wall s: from the operation's start until its last answer, the invariant check "
        "excluded. Handler s: the invocations' times added up. Both are the stand-in's, on "
        "this machine's cores shared by the endpoint, the engine and the Lambda-like "
        "processes: they do not predict a deployment to AWS.",
        "",
        f"In the image change, each Delete read DescribeStacks; the stack's resources "
        f"({lifecycle['listing_pages']} ListStackResources page(s)) were listed once per "
        "Lambda-like process, which keeps its listing for the cleanup phase: "
        f"{listings} pages over {change['containers_started']} processes.",
        "",
        "| whole lifecycle s (two synths included) | synths s | peak memory: endpoint and "
        "stand-in process | peak memory: CDK synth | peak memory: largest Lambda-like process |",
        "|---|---|---|---|---|",
        f"| {lifecycle['total_seconds']:.0f} | {lifecycle['synth_seconds']:.0f} | "
        f"{peak['process']:.0f} MiB | {peak['synth']:.0f} MiB | {peak['lambda']:.0f} MiB |",
        "",
        "The endpoint and stand-in process's peak is the stand-in's own (moto's state and the "
        "answers it keeps); the fault layer keeps each answer as it passes, so reading one "
        "back costs nothing however many were given.",
        "",
        f"Times are medians of {runs} runs." if runs > 1 else "The lifecycle ran once.",
        "",
    ]


def report(
    runs: int,
    synth: dict[tuple[str, int], dict[str, Any]],
    cold: dict[str, dict[str, Any]],
    cold_runs: int,
    events: dict[str, dict[str, Any]],
    lifecycle: dict[str, Any],
) -> str:
    """The figures as markdown, with each target and whether it is met."""
    ours, theirs = MODES
    lines = [
        "# Benchmark: WorkspaceImagePermission vs hand-written AwsCustomResource",
        "",
        f"Machine: {machine()}.  ",
        f"Medians of {runs} runs, measured in one run of `python -m benchmarks.compare`.",
        "",
        "## Synth and template",
        "",
        "Synth: a fresh Python process building and synthesizing the app (CDK runtime start "
        "included), the two kinds interleaved run by run; median, with the fastest and slowest "
        "run. AwsCustomResource: onCreate grant, onDelete revoke, physical ID `image/account`, "
        "`installLatestAwsSdk: false`.",
        "",
        "| shares | synth s (this) | synth s (ACR) | ratio | slower beyond the spread | "
        "template KB (this) | template KB (ACR) | ratio | resources (this) | "
        "resources (ACR) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for count in SHARE_COUNTS:
        a, b = synth[(ours, count)], synth[(theirs, count)]
        lines.append(
            f"| {count} | {a['seconds']:.2f} ({a['fastest']:.2f}-{a['slowest']:.2f}) | "
            f"{b['seconds']:.2f} ({b['fastest']:.2f}-{b['slowest']:.2f}) | "
            f"{_ratio(a['seconds'], b['seconds'])} | "
            f"{'yes' if slower_beyond_spread(a, b) else 'no'} | {a['bytes'] / 1024:.1f} | "
            f"{b['bytes'] / 1024:.1f} | {_ratio(a['bytes'], b['bytes'])} | "
            f"{a['resources']} | {b['resources']} |"
        )
    per_share = {
        mode: (synth[(mode, 100)]["resources"] - synth[(mode, 10)]["resources"]) / 90
        for mode in MODES
    }
    asset_ours, asset_theirs = synth[(ours, 1)]["asset_bytes"], synth[(theirs, 1)]["asset_bytes"]
    pair_cold = ratio(cold["per-pair"])
    delete_seconds = max(f["seconds"] for name, f in events.items() if name.startswith("Delete"))
    calls_ok = all(at_minimum(figures) for figures in events.values())
    synth_slower = any(
        slower_beyond_spread(synth[(ours, c)], synth[(theirs, c)]) for c in SHARE_COUNTS
    )
    shares = lifecycle["shares"]
    lifecycle_ok = all(
        total(lifecycle[phase]["workspaces"]) == sum(lifecycle[phase]["events"].values())
        for phase in PHASES
    )
    lines += [
        "",
        f"Resources per extra share: **{per_share[ours]:.0f}** (this) vs "
        f"**{per_share[theirs]:.0f}** (ACR: a `Custom::AWS` and an `AWS::IAM::Policy` each).",
        "",
        "## Lambda asset (zipped)",
        "",
        "| this (handler + crhelper) | AwsCustomResource (Node handler) | ratio |",
        "|---|---|---|",
        f"| {asset_ours / 1024:.1f} KB | {asset_theirs / 1024:.1f} KB | "
        f"{_ratio(asset_ours, asset_theirs)} |",
        "",
        *cold_start_section(cold, cold_runs),
        *event_section(events),
        *lifecycle_section(lifecycle),
        "## Targets",
        "",
        "| target | figure | met |",
        "|---|---|---|",
        f"| fewer resources per share than ACR | {per_share[ours]:.0f} vs {per_share[theirs]:.0f} "
        f"| {'yes' if per_share[ours] < per_share[theirs] else 'no'} |",
        f"| asset at most half of ACR's | {_ratio(asset_ours, asset_theirs)} "
        f"| {'yes' if asset_ours <= asset_theirs / 2 else 'no'} |",
        f"| per-pair function's cold start within {COLD_START_TARGET}x its floor "
        f"| {pair_cold:.2f}x | {'yes' if pair_cold <= COLD_START_TARGET else 'no'} |",
        f"| Delete answered in under 2 s of handler time | {delete_seconds * 1000:.0f} ms "
        f"| {'yes' if delete_seconds < 2 else 'no'} |",
        "| no more calls than the minimum (no confirming read) | see the event table "
        f"| {'yes' if calls_ok else 'no'} |",
        f"| {shares} shares: one WorkSpaces call per event | see the lifecycle table "
        f"| {'yes' if lifecycle_ok else 'no'} |",
        "| synth not slower than ACR beyond the spread, at 1, 10 and 100 shares | see the "
        f"synth table | {'no' if synth_slower else 'yes'} |",
        *worse_than_alternative(synth),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-start-runs", type=int, default=40)
    parser.add_argument("--lifecycle-runs", type=int, default=1)
    parser.add_argument("--lifecycle-shares", type=int, default=SHARES)
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "docs" / "benchmark.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        work = Path(folder)
        synth = measure_synth(args.runs, work)
        cold = measure_cold_starts(args.cold_start_runs, work / "cold-start")
        events = measure_events(args.runs, work)
        lifecycle = measure_lifecycle(args.lifecycle_runs, args.lifecycle_shares, work)
    text = report(args.runs, synth, cold, args.cold_start_runs, events, lifecycle)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
