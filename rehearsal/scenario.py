"""The rehearsal: an app's stacks taken through CloudFormation's lifecycle on a local endpoint.

After every stack operation, Lambda's pending retries are delivered and the invariant is
checked: for each image, what WorkSpaces lists equals the pairs the stacks' live resources
declare, plus the pairs retained resources left, plus the pairs shared outside any stack.
Each step prints the events sent, the answers and what WorkSpaces then lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.assembly import StackTemplate, read_stacks, synthesize
from rehearsal.cloudformation import CloudFormation
from rehearsal.lambda_service import LambdaService
from rehearsal.local_aws import LocalAws, shared_accounts
from rehearsal.stack_engine import StackEngine


class RehearsalError(AssertionError):
    """What WorkSpaces lists, or an answer, is not what the lifecycle step should leave."""


@dataclass
class Rehearsal:
    """Runs stacks against ``aws``. ``timeout_seconds`` overrides the functions' Timeout;
    ``duplicate`` picks events Lambda delivers twice; ``log_level`` sets LOG_LEVEL."""

    aws: LocalAws
    print_line: Callable[[str], None] = print
    timeout_seconds: float | None = None
    max_parallel: int = 8
    duplicate: Callable[[dict[str, Any]], bool] | None = None
    log_level: str | None = None
    check_invariant: bool = True
    engines: list[StackEngine] = field(default_factory=list)
    outside: set[tuple[str, str]] = field(default_factory=set)
    images: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.cloudformation = CloudFormation(self.aws)
        self.lambda_service = LambdaService(
            self.timeout_seconds,
            self.duplicate,
            {"LOG_LEVEL": self.log_level} if self.log_level else None,
        )

    def close(self) -> None:
        self.lambda_service.close()

    def stack(self, name: str = "Rehearsal") -> StackEngine:
        """A new, empty stack whose events run through this rehearsal's Lambda service."""
        engine = StackEngine(
            name,
            lambda_service=self.lambda_service,
            channel=self.cloudformation,
            roles=self.aws.faults.roles,
            aws_environment=self.aws.environment,
            max_parallel=self.max_parallel,
            after_operation=self._after_operation,
        )
        self.aws.faults.stacks.register(engine)
        self.engines.append(engine)
        return engine

    def share_outside(self, image_id: str, account_id: str) -> None:
        """Share by hand, as an admin would outside any stack; the invariant expects it kept."""
        self.aws.client("workspaces").update_workspace_image_permission(
            ImageId=image_id, AllowCopyImage=True, SharedAccountId=account_id
        )
        self.outside.add((image_id, account_id))

    def expected(self) -> dict[str, set[str]]:
        """For each image, the accounts WorkSpaces should list."""
        pairs = set(self.outside)
        images = set(self.images)
        for engine in self.engines:
            pairs |= engine.declared_pairs() | engine.retained_pairs
            images |= engine.images_seen
        expected: dict[str, set[str]] = {image: set() for image in images}
        for image, account in pairs:
            expected.setdefault(image, set()).add(account)
        return expected

    def _after_operation(self, engine: StackEngine) -> None:
        self.lambda_service.drain()  # Lambda's retries land after CloudFormation moved on
        if not self.check_invariant:
            return
        for image, accounts in self.expected().items():
            listed = shared_accounts(self.aws, image)
            if listed != accounts:
                raise RehearsalError(
                    f"after {engine.name} reached {engine.status}: {image} is shared with "
                    f"{sorted(listed)}, but the stacks declare {sorted(accounts)}"
                    + "".join(f"\n   {step.describe()}" for step in engine.steps[-12:])
                )

    def step(
        self,
        title: str,
        stack: StackEngine,
        action: Callable[[], bool],
        image_id: str,
        *,
        succeeds: bool,
        shared: set[str],
    ) -> None:
        """Run one lifecycle step, print it, and check its outcome and the share state."""
        self.images.add(image_id)
        self.print_line(f"== {title}")
        first = len(stack.steps)
        outcome = action()
        for step in stack.steps[first:]:
            self.print_line(f"   {step.describe()}")
        now = shared_accounts(self.aws, image_id)
        self.print_line(
            f"   stack {stack.status}; shared with: {', '.join(sorted(now)) or 'nobody'}"
        )
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
