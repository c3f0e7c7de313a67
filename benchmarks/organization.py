"""The organization share's calls per run, through the stand-in, for the benchmark.

The example organization app (``rehearsal.organization_stacks``) on an organization of
``ACCOUNTS`` accounts in one OU, with a per-pair share of another image in a second stack of
the account: Create; a scheduled run with nothing to revoke; a scheduled run after one account
left the OU (the run reads the account's other stacks before revoking: ListStacks, then
ListStackResources of each); the stack's deletion. Counted: the requests the functions made
(``aws.faults.function_calls``), by service and operation, retries included.

``python -m benchmarks.organization`` writes docs/benchmark-organization.md.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATIONS_READ_OPERATIONS,
)
from rehearsal.assembly import PROJECT_DIR
from rehearsal.cloudformation_reads import READ_ACTIONS
from rehearsal.local_aws import create_image
from rehearsal.organization_stacks import READER_STACK, SHARING_STACK, synthesize_organization_app
from rehearsal.scenario import rehearsal, synthesize_stack

ACCOUNTS = 20
OUTPUT = PROJECT_DIR / "docs" / "benchmark-organization.md"
HOUR = 3600.0


def _service(operation: str) -> str:
    if operation in READ_ACTIONS:
        return "CloudFormation"
    if operation in ORGANIZATIONS_READ_OPERATIONS or operation == "AssumeRole":
        return "Organizations/STS"
    if operation.endswith("WorkspaceImagePermission") or "ImagePermissions" in operation:
        return "WorkSpaces"
    if operation.startswith("PUT"):
        return "response"
    return "DynamoDB"


def measure(work: Path) -> dict[str, dict[str, int]]:
    """The functions' calls in each run, by operation."""
    events: dict[str, dict[str, int]] = {}
    with rehearsal(print_line=lambda _: None, check_invariant=False) as run:
        image, other_image = create_image(run.aws), create_image(run.aws, "other-image")
        organization = run.create_organization()
        made = organization.populate({"Workloads": ACCOUNTS, "Sandbox": 1})
        app = synthesize_organization_app(work / "organization")
        pairs = run.stack("OtherStack")
        pairs.deploy(
            synthesize_stack(work / "pair", imageId=other_image, accountId=made["Sandbox"][0])
        )
        assert run.stack(READER_STACK, organization.management_account).deploy(app.reader)
        sharing = run.stack(SHARING_STACK)

        def measured(name: str, action: Callable[[], object]) -> None:
            run.aws.faults.function_calls.clear()
            action()
            events[name] = dict(run.aws.faults.function_calls)

        template = app.sharing_for(image, [organization.ou_ids["Workloads"]])
        measured(f"Create ({ACCOUNTS} accounts)", lambda: sharing.deploy(template))
        measured("Scheduled run, nothing to revoke", lambda: run.advance(HOUR))
        organization.move(made["Workloads"][0], "Workloads", "Sandbox")
        measured("Scheduled run, one account left", lambda: run.advance(HOUR))
        measured("Delete (the stack's deletion)", sharing.delete)
    return events


def report(events: dict[str, dict[str, int]]) -> str:
    services = ("WorkSpaces", "Organizations/STS", "DynamoDB", "CloudFormation")
    intro = " ".join(__doc__.split("\n\n")[1].split()) if __doc__ else ""
    intro = intro.replace("``ACCOUNTS``", str(ACCOUNTS)).replace("``", "`")
    lines = [
        "# Benchmark: the organization share's calls per run",
        "",
        f"Through the stand-in (`python -m benchmarks.organization`). {intro}",
        "",
        "| run | " + " | ".join(services) + " |",
        "|---|" + "---|" * len(services),
    ]
    for name, calls in events.items():
        cells = []
        for service in services:
            mine = {op: n for op, n in sorted(calls.items()) if _service(op) == service}
            detail = ", ".join(f"{op} {n}" for op, n in mine.items())
            cells.append(f"{sum(mine.values())} ({detail})" if mine else "0")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="benchmark-organization-") as folder:
        events = measure(Path(folder))
    OUTPUT.write_text(report(events))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
