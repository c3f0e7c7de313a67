"""The rehearsal: an app's shares taken through CloudFormation's lifecycle on a local endpoint.

Each step prints the events sent, the answers and what WorkSpaces then lists as shared, and
fails (RehearsalError) as soon as the state or an answer is not what CloudFormation needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.assembly import ShareResource, StackTemplate, read_stacks, synthesize
from rehearsal.cloudformation import CloudFormation, Response
from rehearsal.lambda_runtime import LambdaRuntime
from rehearsal.local_aws import LocalAws, shared_accounts
from rehearsal.stack import Stack


class RehearsalError(AssertionError):
    """What WorkSpaces lists, or an answer, is not what the lifecycle step should leave."""


@dataclass
class Rehearsal:
    """Runs stacks against ``aws``; ``timeout_seconds`` overrides the functions' Timeout."""

    aws: LocalAws
    print_line: Callable[[str], None] = print
    timeout_seconds: float | None = None
    max_parallel: int = 8
    _runtimes: dict[tuple[Path, str], LambdaRuntime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cloudformation = CloudFormation(self.aws)

    def close(self) -> None:
        for runtime in self._runtimes.values():
            runtime.__exit__()
        self._runtimes.clear()

    def _invoke(self, resource: ShareResource, event: dict[str, Any]) -> Response:
        function = resource.function
        key = (function.asset_dir, function.handler)
        if key not in self._runtimes:
            self._runtimes[key] = LambdaRuntime(
                function, self.aws.environment, self.timeout_seconds
            )
        invocation = self._runtimes[key].invoke(event)
        try:
            return self.cloudformation.response(event)
        except AssertionError as error:
            raise RehearsalError(f"{error}\n--- function log ---\n{invocation.log}") from error

    def stack(self) -> Stack:
        """A new, empty stack whose events run through this rehearsal's Lambda runtime."""
        return Stack(self.cloudformation, self._invoke, max_parallel=self.max_parallel)

    def step(
        self,
        title: str,
        stack: Stack,
        action: Callable[[], bool],
        image_id: str,
        *,
        succeeds: bool,
        shared: set[str],
    ) -> None:
        """Run one lifecycle step, print it, and check its outcome and the share state."""
        self.print_line(f"== {title}")
        first = len(stack.steps)
        outcome = action()
        for step in stack.steps[first:]:
            self.print_line(f"   {step.describe()}")
        now = shared_accounts(self.aws, image_id)
        self.print_line(f"   shared with: {', '.join(sorted(now)) or 'nobody'}")
        if outcome is not succeeds:
            raise RehearsalError(f"{title}: expected {'success' if succeeds else 'failure'}")
        if now != shared:
            raise RehearsalError(f"{title}: expected {sorted(shared)} shared, found {sorted(now)}")


@contextmanager
def rehearsal(**options: Any) -> Iterator[Rehearsal]:
    """A local endpoint and a rehearsal on it; everything is torn down afterwards."""
    with LocalAws() as aws:
        run = Rehearsal(aws, **options)
        try:
            yield run
        finally:
            run.close()


def synthesize_stack(outdir: Path, app: str | None = None, **context: str) -> StackTemplate:
    """Synthesize an app that has one stack and return it."""
    synthesize(outdir, app, context)
    stacks = read_stacks(outdir)
    if len(stacks) != 1:
        raise ValueError(f"expected one stack, found {[s.name for s in stacks]}")
    return stacks[0]
