"""Benchmark a share made with this library against hand-written ``AwsCustomResource`` calls,
in one run on one machine, and write the figures as a markdown table.

    python -m benchmarks.compare [--runs 5] [--output docs/benchmark.md]

Measures (medians over ``--runs``): synth time, template size and resources per share for 1,
10 and 100 shares; the Lambda asset's zipped size; the handler's cold start against a process
that only creates a boto3 WorkSpaces client; per-event handler time and WorkSpaces API calls
(counted with a botocore event hook) against the minimum; the local rehearsal of 100 shares.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.share_apps import MODES
from rehearsal.assembly import PROJECT_DIR, cdk_environment
from rehearsal.cloudformation import CloudFormation
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_runtime import handler_in_process, link_runtime_packages
from rehearsal.local_aws import LocalAws, create_image

SHARE_COUNTS = (1, 10, 100)
FIRST, SECOND = "111122223333", "444455556666"
# Fewest WorkSpaces calls each event can make: a grant, nothing, a revoke.
MINIMUM_CALLS = {"Create": 1, "Update (unchanged)": 0, "Update (new account)": 1, "Delete": 1}


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of a command that must succeed."""
    started = time.perf_counter()
    subprocess.run(
        command, cwd=PROJECT_DIR, env=env or cdk_environment(), check=True, capture_output=True
    )
    return time.perf_counter() - started


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
    results = {}
    for count in SHARE_COUNTS:
        for mode in MODES:
            seconds = []
            for run in range(runs):
                outdir = work / f"{mode}-{count}-{run}"
                seconds.append(synthesize(mode, count, outdir))
            results[(mode, count)] = {"seconds": median(seconds), **template_figures(outdir)}
            print(f"synth {mode} x{count}: {results[(mode, count)]}", flush=True)
    return results


def measure_cold_start(runs: int, asset: Path, work: Path) -> dict[str, float]:
    """A fresh ``python -S`` importing the handler module, against one that only makes a
    WorkSpaces client; both with only the asset and the SDK on their path."""
    runtime = link_runtime_packages(work / "runtime")
    env = {"PATH": os.environ["PATH"], "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    prelude = f"import sys; sys.path[:0] = [{str(asset)!r}, {str(runtime)!r}]; "
    handler = [sys.executable, "-S", "-c", prelude + "import index"]
    floor = [sys.executable, "-S", "-c", prelude + "import boto3; boto3.client('workspaces')"]
    timed(handler, env)  # warm the file cache for both
    timed(floor, env)
    figures = {
        "handler": median([timed(handler, env) for _ in range(runs)]),
        "floor": median([timed(floor, env) for _ in range(runs)]),
    }
    print(f"cold start: {figures}", flush=True)
    return figures


def _counter(counted: Counter[str]) -> Callable[..., None]:
    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    return count


def _lifecycle_events(
    cloudformation: CloudFormation, image: str
) -> list[tuple[str, dict[str, Any]]]:
    """Create, an Update that changes nothing, an Update to a new account, the Delete."""
    first = {"ImageId": image, "SharedAccountId": FIRST}
    second = {"ImageId": image, "SharedAccountId": SECOND}
    physical_id = f"{image}/{FIRST}"
    return [
        ("Create", cloudformation.event("Create", "S", first)),
        (
            "Update (unchanged)",
            cloudformation.event(
                "Update", "S", first, physical_id=physical_id, old_properties=first
            ),
        ),
        (
            "Update (new account)",
            cloudformation.event(
                "Update", "S", second, physical_id=physical_id, old_properties=first
            ),
        ),
        ("Delete", cloudformation.event("Delete", "S", first, physical_id=physical_id)),
    ]


def measure_events(runs: int, asset: Path) -> dict[str, dict[str, float]]:
    """Handler time and WorkSpaces calls per event, on the local endpoint."""
    import boto3

    timings: dict[str, list[float]] = {name: [] for name in MINIMUM_CALLS}
    calls: dict[str, int] = {}
    with LocalAws() as aws:
        for _ in range(runs):
            aws.reset()
            image = create_image(aws)
            cloudformation = CloudFormation(aws)
            counted: Counter[str] = Counter()
            boto3.setup_default_session()
            assert boto3.DEFAULT_SESSION is not None
            boto3.DEFAULT_SESSION.events.register("before-call.workspaces", _counter(counted))
            events = _lifecycle_events(cloudformation, image)
            with handler_in_process(asset, aws.environment) as modules:
                index = modules["index"]
                for name, event in events:
                    counted.clear()
                    started = time.perf_counter()
                    index.handler(event, LambdaContext(180))
                    timings[name].append(time.perf_counter() - started)
                    calls[name] = sum(counted.values())
                    assert cloudformation.response(event).status == "SUCCESS", name
    figures = {
        name: {"seconds": median(timings[name]), "calls": calls[name]} for name in MINIMUM_CALLS
    }
    print(f"events: {figures}", flush=True)
    return figures


def measure_rehearsal(runs: int) -> dict[str, float]:
    """The 100-share rehearsal (two synths, 100 Creates with every grant throttled twice, then
    a list with one account removed), as its own process: wall time and the largest RSS."""
    test = (
        "tests/rehearsal/test_image_share.py"
        "::test_hundred_accounts_under_throttling_then_one_removed"
    )
    seconds = []
    for _ in range(runs):
        seconds.append(
            timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test])
        )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = {"seconds": median(seconds), "peak_mib": peak_kib / 1024}
    print(f"rehearsal: {figures}", flush=True)
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
    "- **Synth time** is {worst} slower at {counts} share(s): local bundling runs at every "
    "synth (the CDK calls back into Python, which copies the handler and crhelper), and the "
    "concurrency Aspect visits every construct, while AwsCustomResource's handler ships "
    "prebuilt inside aws-cdk-lib. Shipping the bundled asset prebuilt in the wheel "
    "(`Code.from_asset` on it, no bundling) would close it."
)
TEMPLATE_LARGER = (
    "- **Template size** is larger at {counts} share(s): this construct declares its own log "
    "group (30-day retention) and a logs statement scoped to it, where AwsCustomResource's "
    "function logs to a group with no retention. From a few shares on, AwsCustomResource's "
    "IAM policy per share outweighs it; dropping the managed log group would close it at the "
    "cost of logs kept forever."
)


def worse_than_alternative(synth: dict[tuple[str, int], dict[str, Any]]) -> list[str]:
    """Why each figure worse than AwsCustomResource's is worse, and what would close it."""
    ours, theirs = MODES
    slower = [
        c for c in SHARE_COUNTS if synth[(ours, c)]["seconds"] > synth[(theirs, c)]["seconds"]
    ]
    larger = [c for c in SHARE_COUNTS if synth[(ours, c)]["bytes"] > synth[(theirs, c)]["bytes"]]
    lines = []
    if slower:
        worst = max(synth[(ours, c)]["seconds"] / synth[(theirs, c)]["seconds"] for c in slower)
        counts = ", ".join(map(str, slower))
        lines.append(SYNTH_SLOWER.format(worst=f"up to {(worst - 1) * 100:.0f}%", counts=counts))
    if larger:
        lines.append(TEMPLATE_LARGER.format(counts=", ".join(map(str, larger))))
    return ["", "## Where it is worse than AwsCustomResource", "", *lines] if lines else []


def report(
    runs: int,
    synth: dict[tuple[str, int], dict[str, Any]],
    cold: dict[str, float],
    events: dict[str, dict[str, float]],
    rehearsal: dict[str, float],
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
        "included). AwsCustomResource: onCreate grant, onDelete revoke, physical ID "
        "`image/account`, `installLatestAwsSdk: false`.",
        "",
        "| shares | synth s (this) | synth s (ACR) | ratio | template KB (this) | "
        "template KB (ACR) | ratio | resources (this) | resources (ACR) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for count in SHARE_COUNTS:
        a, b = synth[(ours, count)], synth[(theirs, count)]
        lines.append(
            f"| {count} | {a['seconds']:.2f} | {b['seconds']:.2f} | "
            f"{_ratio(a['seconds'], b['seconds'])} | {a['bytes'] / 1024:.1f} | "
            f"{b['bytes'] / 1024:.1f} | {_ratio(a['bytes'], b['bytes'])} | "
            f"{a['resources']} | {b['resources']} |"
        )
    per_share = {
        mode: (synth[(mode, 100)]["resources"] - synth[(mode, 10)]["resources"]) / 90
        for mode in MODES
    }
    asset_ours, asset_theirs = synth[(ours, 1)]["asset_bytes"], synth[(theirs, 1)]["asset_bytes"]
    cold_ratio = cold["handler"] / cold["floor"]
    delete_seconds = events["Delete"]["seconds"]
    calls_ok = all(events[name]["calls"] <= MINIMUM_CALLS[name] + 1 for name in MINIMUM_CALLS)
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
        "## Cold start",
        "",
        "A fresh `python -S` with only the asset and the SDK on its path (as in Lambda), "
        "process start to exit.",
        "",
        "| `import index` (this handler) | floor: `import boto3; boto3.client('workspaces')` "
        "| ratio |",
        "|---|---|---|",
        f"| {cold['handler'] * 1000:.0f} ms | {cold['floor'] * 1000:.0f} ms | {cold_ratio:.2f}x |",
        "",
        "## Per event, against the local endpoint",
        "",
        "Handler time includes answering the presigned S3 URL. Calls are WorkSpaces API calls, "
        "counted with a `before-call.workspaces` botocore hook.",
        "",
        "| event | handler ms | WorkSpaces calls | minimum |",
        "|---|---|---|---|",
    ]
    for name, figures in events.items():
        lines.append(
            f"| {name} | {figures['seconds'] * 1000:.0f} | {figures['calls']:.0f} | "
            f"{MINIMUM_CALLS[name]} |"
        )
    lines += [
        "",
        "## Rehearsal of 100 shares",
        "",
        "Two CDK CLI synths, 100 Creates (each in its own Lambda-like process, at most 10 at "
        "once by the DependsOn chains) with every grant throttled twice before it passes, then "
        "the list with one account removed (one Delete).",
        "",
        "| total s | peak memory (largest process) |",
        "|---|---|",
        f"| {rehearsal['seconds']:.1f} | {rehearsal['peak_mib']:.0f} MiB |",
        "",
        "## Targets",
        "",
        "| target | figure | met |",
        "|---|---|---|",
        f"| fewer resources per share than ACR | {per_share[ours]:.0f} vs {per_share[theirs]:.0f} "
        f"| {'yes' if per_share[ours] < per_share[theirs] else 'no'} |",
        f"| asset at most half of ACR's | {_ratio(asset_ours, asset_theirs)} "
        f"| {'yes' if asset_ours <= asset_theirs / 2 else 'no'} |",
        f"| cold start within 1.5x the boto3 floor | {cold_ratio:.2f}x "
        f"| {'yes' if cold_ratio <= 1.5 else 'no'} |",
        f"| Delete answered in under 2 s of handler time | {delete_seconds * 1000:.0f} ms "
        f"| {'yes' if delete_seconds < 2 else 'no'} |",
        "| no more calls than the minimum plus one confirming read | see the event table "
        f"| {'yes' if calls_ok else 'no'} |",
        *worse_than_alternative(synth),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rehearsal-runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "docs" / "benchmark.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        work = Path(folder)
        synth = measure_synth(args.runs, work)
        outdir = work / f"construct-1-{args.runs - 1}"
        template = json.loads((outdir / "Shares.template.json").read_text())
        (function,) = [
            r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
        ]
        asset = outdir / function["Metadata"]["aws:asset:path"]
        cold = measure_cold_start(args.runs * 4, asset, work)
        events = measure_events(args.runs, asset)
        rehearsal = measure_rehearsal(args.rehearsal_runs)
    text = report(args.runs, synth, cold, events, rehearsal)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
