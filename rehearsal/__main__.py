"""``python -m rehearsal``: the example app's share through its whole lifecycle, locally.

Synthesizes app.py with the pinned CDK CLI, starts moto on 127.0.0.1 over HTTPS behind the
strict stand-in (IAM, paging, refusals, Lambda's asynchronous invocation), and runs the
synthesized handler as Lambda would for: Create; Update to another account and the cleanup
Delete; an Update rolled back because another resource failed; an Update WorkSpaces refuses;
an image change (the old image revoked under the new role policy); stack Delete after someone
revoked the share by hand; a Create WorkSpaces refuses and its rollback Delete; an Update whose
grant hangs past the function's Timeout, rolled back, with no replay afterwards. Every stack
operation ends with the invariant check (rehearsal.scenario), then the drift command's report
on a freshly deployed stack, which must show no drift.

Then the organization share of examples/organization_share_app.py on a small organization whose
management account is its own: the reader role's stack deployed there, the sharing stack in the
image account, an account joining and one leaving before the hourly scheduled run, the drift
report, and the stack's deletion. Exits 1 on any mismatch.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cdk_workspaces_image_sharing.drift.cli import main as drift_command
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import GRANT_OR_REVOKE
from rehearsal.assembly import StackTemplate
from rehearsal.faults import Fault, grants_hang_while
from rehearsal.local_aws import ACCOUNT_ID, create_image
from rehearsal.organization_stacks import (
    EXAMPLE_APP,
    READER_STACK,
    SHARING_STACK,
    synthesize_organization_app,
)
from rehearsal.scenario import (
    Rehearsal,
    RehearsalError,
    rehearsal,
    synthesize_stack,
)

FIRST, SECOND, THIRD = "111122223333", "444455556666", "777788889999"
# A Timeout short enough to reach in seconds; crhelper's timer and the hard stop work the same.
SHORT_TIMEOUT_SECONDS = 6.0
REPORTED_STACK = "RehearsalReported"


def example_lifecycle(run: Rehearsal) -> None:
    """The example app's lifecycle; raises RehearsalError on the first mismatch."""
    image = create_image(run.aws)
    run.print_line(f"image {image} created on {run.aws.endpoint_url}; synthesizing app.py")
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as folder:
        first, second, third = (
            synthesize_stack(Path(folder) / account, imageId=image, accountId=account)
            for account in (FIRST, SECOND, THIRD)
        )
        _run_lifecycle(run, image, first, second, third)
        with _short_timeout(run) as hurried:
            _run_timeout(hurried, image, first, second)
        _report_drift(run, image, second)
        organization_lifecycle(run, Path(folder) / "organization")


def _run_lifecycle(
    run: Rehearsal,
    image: str,
    first: StackTemplate,
    second: StackTemplate,
    third: StackTemplate,
) -> None:
    stack = run.stack()
    run.step(
        f"Create: share with {FIRST}",
        stack,
        lambda: stack.deploy(first),
        image,
        succeeds=True,
        shared={FIRST},
    )
    run.step(
        f"Update to {SECOND}, then the cleanup Delete",
        stack,
        lambda: stack.deploy(second),
        image,
        succeeds=True,
        shared={SECOND},
    )
    run.step(
        f"Update to {THIRD}; another resource fails: UPDATE_ROLLBACK",
        stack,
        lambda: stack.deploy(third, another_resource_fails=True),
        image,
        succeeds=False,
        shared={SECOND},
    )
    run.aws.faults.inject(
        Fault(GRANT_OR_REVOKE, "error", error_code="OperationNotSupportedException")
    )
    run.step(
        f"Update to {THIRD} refused by WorkSpaces (OperationNotSupported)",
        stack,
        lambda: stack.deploy(third),
        image,
        succeeds=False,
        shared={SECOND},
    )
    new_image = create_image(run.aws, "golden-image-v2")
    run.step(
        f"Image change to {new_image}; the cleanup Delete revokes the old image",
        stack,
        lambda: stack.deploy(second.with_values({image: new_image})),
        new_image,
        succeeds=True,
        shared={SECOND},
    )
    run.aws.client("workspaces").update_workspace_image_permission(
        ImageId=new_image, AllowCopyImage=False, SharedAccountId=SECOND
    )
    run.step(
        "Someone revokes the share by hand; Delete the stack",
        stack,
        stack.delete,
        new_image,
        succeeds=True,
        shared=set(),
    )
    failed = run.stack("RehearsalRefused")
    run.aws.faults.inject(
        Fault(GRANT_OR_REVOKE, "error", error_code="ResourceUnavailableException")
    )
    run.step(
        "Create refused (image not AVAILABLE), then the rollback Delete",
        failed,
        lambda: failed.deploy(first),
        image,
        succeeds=False,
        shared=set(),
    )


def _run_timeout(run: Rehearsal, image: str, first: StackTemplate, second: StackTemplate) -> None:
    stack = run.stack("RehearsalTimeout")
    run.step(
        f"Create: share with {FIRST}",
        stack,
        lambda: stack.deploy(first),
        image,
        succeeds=True,
        shared={FIRST},
    )
    run.aws.faults.inject(
        grants_hang_while(
            lambda: stack.status == "UPDATE_IN_PROGRESS",
            SHORT_TIMEOUT_SECONDS + 2,
            account_id=SECOND,
        )
    )
    run.step(
        f"Update to {SECOND} hangs past the Timeout: FAILED, rolled back, never replayed",
        stack,
        lambda: stack.deploy(second),
        image,
        succeeds=False,
        shared={FIRST},
    )
    retries = [d for d in run.lambda_service.deliveries if d.kind == "retry"]
    if retries:
        raise RehearsalError(f"Lambda retried {len(retries)} event(s) after the rollback")
    run.step("Delete the stack", stack, stack.delete, image, succeeds=True, shared=set())


def _report_drift(run: Rehearsal, image: str, template: StackTemplate) -> None:
    """Deploy the stack once more and end with the drift command's report on it: no drift."""
    stack = run.stack(REPORTED_STACK)
    run.step(
        f"Create: share with {SECOND}; then `workspace-image-shares report`",
        stack,
        lambda: stack.deploy(template),
        image,
        succeeds=True,
        shared={SECOND},
    )
    _drift_report(run, REPORTED_STACK)


def _drift_report(run: Rehearsal, stack_name: str) -> None:
    """Print the drift command's report on ``stack_name``; it must find no drift."""
    output = io.StringIO()
    code = drift_command(
        ["report", "--stack", stack_name],
        environment=run.aws.environment,
        stdout=output,
        stderr=output,
    )
    for line in output.getvalue().splitlines():
        run.print_line(f"   {line}".rstrip())
    if code != 0:
        raise RehearsalError(f"the drift report of {stack_name} exited {code}")


def organization_lifecycle(run: Rehearsal, outdir: Path) -> None:
    """The organization share's lifecycle; raises RehearsalError on the first mismatch."""
    image = create_image(run.aws, "golden-image-organization")
    organization = run.create_organization()
    made = organization.populate({"Workloads": 2, "Workloads/Prod": 2, "Sandbox": 1})
    organization.add_existing_account(ACCOUNT_ID, "Workloads")  # the image owner
    run.print_line(
        f"image {image}; an organization with management account "
        f"{organization.management_account}: Workloads {made['Workloads']}, Workloads/Prod "
        f"{made['Workloads/Prod']}, Sandbox {made['Sandbox']}; synthesizing {EXAMPLE_APP}"
    )
    app = synthesize_organization_app(outdir)
    reader = run.stack(READER_STACK, organization.management_account)
    run.step(
        f"Deploy {READER_STACK} in the management account (the reader role, first)",
        reader,
        lambda: reader.deploy(app.reader),
        image,
        succeeds=True,
        shared=set(),
    )
    sharing = run.stack(SHARING_STACK)
    workloads = set(made["Workloads"]) | set(made["Workloads/Prod"])
    run.step(
        f"Deploy {SHARING_STACK}: share with OU Workloads and the OUs below it",
        sharing,
        lambda: sharing.deploy(app.sharing_for(image, [organization.ou_ids["Workloads"]])),
        image,
        succeeds=True,
        shared=workloads,
    )
    (joined,) = organization.add_accounts("Workloads/Prod", 1, prefix="joined")
    leaving = made["Workloads"][0]
    organization.move(leaving, "Workloads", "Sandbox")
    workloads = workloads - {leaving} | {joined}
    first = len(run.lambda_service.deliveries)

    def an_hour() -> bool:
        fired = run.advance(3600)
        for delivery in run.lambda_service.deliveries[first:]:
            for line in delivery.invocation.log.splitlines():
                if "organization share Scheduled" in line:
                    run.print_line("   " + line.split("\t")[-1])
        return fired == 1

    run.step(
        f"{joined} joins Workloads/Prod, {leaving} moves to Sandbox; an hour later the rule runs",
        sharing,
        an_hour,
        image,
        succeeds=True,
        shared=workloads,
    )
    run.print_line(f"== `workspace-image-shares report --stack {SHARING_STACK}`")
    _drift_report(run, SHARING_STACK)
    run.step(
        f"Delete {SHARING_STACK}: what it granted is revoked",
        sharing,
        sharing.delete,
        image,
        succeeds=True,
        shared=set(),
    )


@contextmanager
def _short_timeout(run: Rehearsal) -> Iterator[Rehearsal]:
    """A rehearsal on the same endpoint whose functions time out after a few seconds."""
    hurried = Rehearsal(run.aws, run.print_line, timeout_seconds=SHORT_TIMEOUT_SECONDS)
    try:
        yield hurried
    finally:
        hurried.close()


def main() -> int:
    try:
        with rehearsal() as run:
            example_lifecycle(run)
    except RehearsalError as error:
        print(f"REHEARSAL FAILED: {error}", file=sys.stderr)
        return 1
    print("rehearsal passed: every step left WorkSpaces and the ledger as the stacks declare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
