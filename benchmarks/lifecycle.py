"""The handler's calls and times through the stand-in (``rehearsal/``), for the benchmark.

Everything here runs through ``rehearsal.scenario.Rehearsal``: the stand-in stack engine sends
the events CloudFormation would, the function runs in Lambda-like processes, and the local
endpoint counts every request it receives per operation name (``aws.faults.calls``), so the
handler's calls are counted where they land, retries included (no fault is injected here).

- ``measure_events``: one share (the example app) through Create, an Update that keeps the
  pair, an Update to another account with the cleanup Delete of the old one, and the stack's
  deletion: calls and handler time per event.
- ``run_lifecycle``: ``SHARES`` shares (the per-stack ceiling) deployed on image A, moved to
  image B (``SHARES`` Updates, then ``SHARES`` cleanup Deletes of the old IDs), then the stack
  deleted: calls, wall time and what WorkSpaces lists after each operation (the rehearsal's
  invariant check also compares that with what the stack declares).

``python -m benchmarks.lifecycle --output FILE`` runs the lifecycle in a process of its own
and writes its figures, with that process's peak memory, as JSON.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from rehearsal.accounts import sample_accounts
from rehearsal.assembly import PROJECT_DIR, StackTemplate, cdk_environment, read_templates
from rehearsal.cloudformation_reads import LIST_PAGE_SIZE
from rehearsal.local_aws import LocalAws, create_image
from rehearsal.scenario import Rehearsal, RehearsalError, synthesize_stack
from rehearsal.stack_engine import StackEngine

# CloudFormation's 500 resources a stack, less the function's five (log group, role, policy,
# function, EventInvokeConfig): with CDK's metadata resource as well, the ceiling is 494.
SHARES = 495
SHARE_APP = "python3 -m examples.image_share_app"
# Synthesized with these, then swapped for the IDs the local endpoint makes (moto's are random).
IMAGE_A, IMAGE_B = "wsi-0benchmarka", "wsi-0benchmarkb"
FIRST, SECOND = "111122223333", "444455556666"

_MODELS = botocore.session.get_session()
WORKSPACES_OPERATIONS = frozenset(_MODELS.get_service_model("workspaces").operation_names)
CLOUDFORMATION_OPERATIONS = frozenset(_MODELS.get_service_model("cloudformation").operation_names)

EVENTS = (
    "Create",
    "Update (unchanged)",
    "Update (new account)",
    "Delete (cleanup after the update)",
    "Delete (stack deletion)",
)


def calls_of(counts: Counter[str], operations: frozenset[str]) -> dict[str, int]:
    """The counts of ``operations`` alone, by name."""
    return {name: n for name, n in sorted(counts.items()) if name in operations and n > 0}


def split_calls(counts: Counter[str]) -> dict[str, dict[str, int]]:
    """WorkSpaces and CloudFormation requests apart (the rest: S3, the response URL, EC2)."""
    return {
        "workspaces": calls_of(counts, WORKSPACES_OPERATIONS),
        "cloudformation": calls_of(counts, CLOUDFORMATION_OPERATIONS),
    }


@dataclass
class CountingRehearsal(Rehearsal):
    """A rehearsal that notes the endpoint's counts and the time once an operation's work is
    done (Lambda's retries delivered), before its invariant check reads WorkSpaces."""

    counts_at_end: Counter[str] = field(default_factory=Counter)
    ended_at: float = 0.0

    def _after_operation(self, engine: StackEngine) -> None:
        self.lambda_service.drain()
        self.ended_at = time.perf_counter()
        self.counts_at_end = Counter(self.aws.faults.calls)
        super()._after_operation(engine)


class EventProbe:
    """Given as the rehearsal's ``duplicate`` choice, which the Lambda stand-in asks once an
    event's first delivery has ended and its answer was read: notes the endpoint's counts at
    that moment, and never asks for a duplicate. Meaningful while events run one at a time."""

    def __init__(self, aws: LocalAws) -> None:
        self._aws = aws
        self.marks: list[tuple[str, Counter[str]]] = []

    def __call__(self, event: dict[str, Any]) -> bool:
        self.marks.append((str(event["RequestType"]), Counter(self._aws.faults.calls)))
        return False


def with_service_timeout(template: StackTemplate, seconds: str) -> StackTemplate:
    """``template`` with every share's ServiceTimeout set to ``seconds``: CloudFormation then
    sends an Update whose ImageId and SharedAccountId are unchanged (as a library upgrade that
    changes the timeout would)."""
    changed = copy.deepcopy(template.template)
    for declaration in changed["Resources"].values():
        if declaration["Type"] == PAIR_RESOURCE_TYPE:
            declaration["Properties"]["ServiceTimeout"] = seconds
    return dataclasses.replace(template, template=changed)


def listing_pages(template: StackTemplate) -> int:
    """ListStackResources pages one listing of the stack ``template`` makes takes."""
    return math.ceil(len(template.template["Resources"]) / LIST_PAGE_SIZE)


def _one_run(
    aws: LocalAws, first: StackTemplate, second: StackTemplate
) -> list[tuple[str, Counter[str], float]]:
    """One share's lifecycle on a fresh endpoint: (request type, calls, handler seconds) per
    event, in order."""
    aws.reset()
    image = create_image(aws)
    first = first.with_values({IMAGE_A: image})
    second = second.with_values({IMAGE_A: image})
    probe = EventProbe(aws)
    run = Rehearsal(aws, print_line=lambda _: None, duplicate=probe)
    events: list[tuple[str, Counter[str], float]] = []
    try:
        stack = run.stack()
        operations: list[Callable[[], bool]] = [
            lambda: stack.deploy(first),
            lambda: stack.deploy(with_service_timeout(first, "301")),
            lambda: stack.deploy(second),
            stack.delete,
        ]
        for operation in operations:
            before = Counter(aws.faults.calls)
            marks, deliveries = len(probe.marks), len(run.lambda_service.deliveries)
            if not operation():
                raise RehearsalError(f"{stack.status}: {[s.describe() for s in stack.steps]}")
            firsts = [d for d in run.lambda_service.deliveries[deliveries:] if d.kind == "first"]
            for (request_type, counts), delivery in zip(probe.marks[marks:], firsts, strict=True):
                events.append((request_type, counts - before, delivery.invocation.seconds))
                before = counts
        if any(s.response.status != "SUCCESS" for s in stack.steps):
            raise RehearsalError(f"a request failed: {[s.describe() for s in stack.steps]}")
    finally:
        run.close()
    return events


def measure_events(runs: int, work: Path) -> dict[str, dict[str, Any]]:
    """Calls (by service and operation) and median handler time per event, against the
    fewest calls each can make. Handler time is the invocation's: the handler, its calls and
    its answer to the presigned URL, in a warm container (the init phase is not counted)."""
    first = synthesize_stack(work / "events-first", imageId=IMAGE_A, accountId=FIRST)
    second = synthesize_stack(work / "events-second", imageId=IMAGE_A, accountId=SECOND)
    pages = listing_pages(second)
    minimum = {
        "Create": (1, 0),
        "Update (unchanged)": (0, 0),
        "Update (new account)": (1, 0),
        # The revoke, and the reads that tell whether another resource holds the pair:
        # DescribeStacks, then every ListStackResources page unless the stack is going away.
        "Delete (cleanup after the update)": (1, 1 + pages),
        "Delete (stack deletion)": (1, 1),
    }
    seconds: dict[str, list[float]] = {name: [] for name in EVENTS}
    calls: dict[str, Counter[str]] = {name: Counter() for name in EVENTS}
    with LocalAws() as aws:
        for _ in range(runs):
            events = _one_run(aws, first, second)
            types = [request_type for request_type, _, _ in events]
            if types != ["Create", "Update", "Update", "Delete", "Delete"]:
                raise RehearsalError(f"unexpected events {types}")
            for name, (_, counts, took) in zip(EVENTS, events, strict=True):
                seconds[name].append(took)
                calls[name] |= counts  # the most any run made
    figures: dict[str, dict[str, Any]] = {}
    for name in EVENTS:
        figures[name] = {
            "seconds": statistics.median(seconds[name]),
            **split_calls(calls[name]),
            "minimum_workspaces": minimum[name][0],
            "minimum_cloudformation": minimum[name][1],
        }
    print(f"events: {figures}", flush=True)
    return figures


def children_peak_mib() -> float:
    """The largest peak RSS (VmHWM) among this process's live children, from /proc (0 where
    there is none). Unlike RUSAGE_CHILDREN, which also counts what a child shared with this
    process before it ran its program, it is each child's own."""
    peaks = [0.0]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the process ended meanwhile
            continue
        fields = {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}
        if fields.get("PPid") == str(os.getpid()) and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return max(peaks)


def _operation(
    run: CountingRehearsal,
    stack: StackEngine,
    action: Callable[[], bool],
    images: dict[str, str],
) -> dict[str, Any]:
    """Run one stack operation and return what it took; raises RehearsalError when it or a
    request fails, or when WorkSpaces then lists other than what the stack declares."""
    before = Counter(run.aws.faults.calls)
    steps, deliveries = len(stack.steps), len(run.lambda_service.deliveries)
    cold_starts = run.lambda_service.cold_starts()
    started = time.perf_counter()
    if not action():  # the invariant check runs at its end
        raise RehearsalError(f"{stack.name} ended {stack.status}")
    checked = time.perf_counter()
    made = stack.steps[steps:]
    failed = [s.describe() for s in made if s.response.status != "SUCCESS"]
    if failed or stack.failed_cleanup:
        raise RehearsalError(f"failed requests: {failed[:5]}")
    delivered = run.lambda_service.deliveries[deliveries:]
    return {
        "events": dict(Counter(s.request_type for s in made)),
        "deliveries": dict(Counter(d.kind for d in delivered)),
        **split_calls(run.counts_at_end - before),
        "seconds": run.ended_at - started,
        "check_seconds": checked - run.ended_at,
        "handler_seconds": sum(d.invocation.seconds for d in delivered),
        "containers_started": run.lambda_service.cold_starts() - cold_starts,
        "listed": {label: len(run.aws.shared_accounts(image)) for label, image in images.items()},
        "stack_status": stack.status,
    }


def synthesize_without_metadata(outdir: Path, **context: str) -> StackTemplate:
    """The image-share app synthesized by the pinned CDK CLI as ``synthesize_stack`` does, with
    ``--no-version-reporting``: without the AWS::CDK::Metadata resource, ``SHARES`` shares and
    the function's five resources make the 500 a stack may hold (with it, 501: the CDK refuses
    the stack with TooManyResourcesInStack)."""
    command = ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-version-reporting"]
    command += ["--output", str(outdir), "--app", SHARE_APP]
    for key, value in context.items():
        command += ["--context", f"{key}={value}"]
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=cdk_environment(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{result.stderr[-3000:]}")
    (stack,) = read_templates(outdir)
    return stack


def run_lifecycle(shares: int, work: Path) -> dict[str, Any]:
    """``shares`` shares deployed on image A, moved to image B, then the stack deleted."""
    accounts = ",".join(sample_accounts(shares))
    started = time.perf_counter()
    on_a = synthesize_without_metadata(work / "a", imageId=IMAGE_A, accounts=accounts)
    on_b = synthesize_without_metadata(work / "b", imageId=IMAGE_B, accounts=accounts)
    synth_seconds = time.perf_counter() - started
    # Only the synths have ended so far; this process was small when it started them.
    synth_peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"lifecycle: {shares} shares synthesized twice in {synth_seconds:.1f} s", flush=True)
    figures: dict[str, Any] = {
        "shares": shares,
        "resources": len(on_a.template["Resources"]),
        "template_bytes": len(json.dumps(on_a.template, separators=(",", ":"))),
        "listing_pages": listing_pages(on_a),
        "synth_seconds": synth_seconds,
        "synth_peak_mib": synth_peak_kib / 1024,
        "lambda_peak_mib": 0.0,
    }
    with LocalAws() as aws:
        images = {"A": create_image(aws, "image-a"), "B": create_image(aws, "image-b")}
        replacements = {IMAGE_A: images["A"], IMAGE_B: images["B"]}
        run = CountingRehearsal(aws, print_line=lambda _: None)
        try:
            run.images |= set(images.values())
            stack = run.stack("Shares")
            stack.max_parallel = shares  # the template's lanes, not the pool, bound concurrency
            phases: list[tuple[str, Callable[[], bool]]] = [
                ("create", lambda: stack.deploy(on_a.with_values(replacements))),
                ("image change", lambda: stack.deploy(on_b.with_values(replacements))),
                ("delete", stack.delete),
            ]
            for name, action in phases:
                figures[name] = _operation(run, stack, action, images)
                print(f"lifecycle {name}: {figures[name]}", flush=True)
            figures["peak_concurrency"] = stack.peak_concurrency
            figures["lambda_peak_mib"] = children_peak_mib()  # the containers, still alive
        finally:
            run.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", type=int, default=SHARES)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lifecycle-") as folder:
        figures = run_lifecycle(args.shares, Path(folder))
    figures["peak_mib"] = {
        "process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "synth": figures.pop("synth_peak_mib"),
        "lambda": figures.pop("lambda_peak_mib"),
    }
    args.output.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
