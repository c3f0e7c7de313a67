"""``python -m rehearsal``: the example app's share through its whole lifecycle, locally.

Synthesizes app.py with the pinned CDK CLI, starts moto on 127.0.0.1 over HTTPS, and runs the
synthesized handler as Lambda would for: Create; Update to another account and the cleanup
Delete; an Update rolled back because another resource failed; an Update WorkSpaces refuses;
stack Delete; a Create WorkSpaces refuses and its rollback Delete. Exits 1 on any mismatch.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rehearsal.assembly import StackTemplate
from rehearsal.faults import Fault
from rehearsal.local_aws import create_image
from rehearsal.scenario import (
    Rehearsal,
    RehearsalError,
    rehearsal,
    synthesize_stack,
)

FIRST, SECOND, THIRD = "111122223333", "444455556666", "777788889999"
GRANT = "UpdateWorkspaceImagePermission"


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
    run.aws.faults.inject(Fault(GRANT, "error", error_code="OperationNotSupportedException"))
    run.step(
        f"Update to {THIRD} refused by WorkSpaces (OperationNotSupported)",
        stack,
        lambda: stack.deploy(third),
        image,
        succeeds=False,
        shared={SECOND},
    )
    run.step("Delete the stack", stack, stack.delete, image, succeeds=True, shared=set())
    failed = run.stack("RehearsalRefused")
    run.aws.faults.inject(Fault(GRANT, "error", error_code="ResourceUnavailableException"))
    run.step(
        "Create refused (image not AVAILABLE), then the rollback Delete",
        failed,
        lambda: failed.deploy(first),
        image,
        succeeds=False,
        shared=set(),
    )


def main() -> int:
    try:
        with rehearsal() as run:
            example_lifecycle(run)
    except RehearsalError as error:
        print(f"REHEARSAL FAILED: {error}", file=sys.stderr)
        return 1
    print("rehearsal passed: every step left WorkSpaces as CloudFormation expects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
