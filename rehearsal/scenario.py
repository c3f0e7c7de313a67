"""The rehearsal: an app's stacks taken through CloudFormation's lifecycle on a local endpoint.

After every stack operation and every stretch of time in which schedules fire, Lambda's pending
retries are delivered and the invariant (``invariant``) is checked. Each step prints the events
sent, the answers and what WorkSpaces then lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.assembly import StackTemplate, read_templates, synthesize
from rehearsal.cloudformation import CloudFormation
from rehearsal.invariant import World, violations
from rehearsal.lambda_service import LambdaService
from rehearsal.local_aws import ACCOUNT_ID, LocalAws
from rehearsal.organization import Organization
from rehearsal.provisioning import Provisioner
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
    organization: Organization | None = None

    def __post_init__(self) -> None:
        self.cloudformation = CloudFormation(self.aws)
        self.lambda_service = LambdaService(
            self.timeout_seconds,
            self.duplicate,
            {"LOG_LEVEL": self.log_level} if self.log_level else None,
        )

    def close(self) -> None:
        self.lambda_service.close()

    def stack(self, name: str = "Rehearsal", account_id: str = ACCOUNT_ID) -> StackEngine:
        """A new, empty stack of ``account_id`` whose events run through this rehearsal's
        Lambda service; its roles and tables are made in moto."""
        return self._engine(name, account_id, self._after_operation)

    def _engine(
        self, name: str, account_id: str, after_operation: Callable[[StackEngine], None]
    ) -> StackEngine:
        engine = StackEngine(
            name,
            lambda_service=self.lambda_service,
            channel=self.cloudformation,
            roles=self.aws.faults.roles,
            aws_environment=self.aws.environment,
            max_parallel=self.max_parallel,
            after_operation=after_operation,
            account_id=account_id,
            provisioner=Provisioner(self.aws, account_id),
            # A nested stack's parent runs it, and checks the invariant when it ends.
            nested_stack=lambda nested: self._engine(nested, account_id, lambda _: None),
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

    def create_organization(self) -> Organization:
        """An organization whose management account is not the image account."""
        self.organization = Organization.create(self.aws, self.lambda_service.time)
        return self.organization

    def _after_operation(self, engine: StackEngine) -> None:
        self.lambda_service.drain()  # Lambda's retries land after CloudFormation moved on
        self.check(f"after {engine.name} reached {engine.status}", engine)

    def check(self, moment: str, engine: StackEngine | None = None) -> None:
        """Raise RehearsalError unless the invariant holds (``invariant``)."""
        if not self.check_invariant:
            return
        world = World(
            self.aws,
            self.engines,
            self.organization,
            self.outside,
            self.images,
            self.lambda_service.deliveries,
            self.lambda_service.epoch,
        )
        problems = violations(world)
        if problems:
            steps = engine.steps[-12:] if engine is not None else []
            raise RehearsalError(
                f"{moment}: "
                + "; ".join(problems)
                + "".join(f"\n   {step.describe()}" for step in steps)
            )

    def advance(self, seconds: float) -> int:
        """Let ``seconds`` pass on the virtual clock: every live rule fires when its schedule
        falls due (EventBridge's scheduled delivery), Lambda's retries land, and the invariant
        is checked at the end. Returns how many targets were invoked."""
        service = self.lambda_service
        until = service.now + seconds
        invoked = 0
        while True:
            due = self._next_firing(until)
            if due is None:
                break
            at, engine, logical_id = due
            service.advance(at - service.now)
            invoked += engine.fire_scheduled(logical_id)
        service.advance(until - service.now)
        service.drain()
        self.check(f"after {seconds:.0f} s of schedules")
        return invoked

    def _next_firing(self, until: float) -> tuple[float, StackEngine, str] | None:
        firings = [
            (at, engine.name, engine, logical_id)
            for engine in self.engines
            for logical_id, at in engine.next_firings().items()
            if at <= until
        ]
        if not firings:
            return None
        at, _, engine, logical_id = min(firings, key=lambda f: (f[0], f[1], f[3]))
        return at, engine, logical_id

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
        now = self.aws.shared_accounts(image_id)
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
    stacks = read_templates(outdir)
    if len(stacks) != 1:
        raise ValueError(f"expected one stack, found {[s.name for s in stacks]}")
    return stacks[0]
