"""Lambda's asynchronous invocation, as CloudFormation uses it for a custom resource.

CloudFormation invokes the function with ``InvocationType=Event``. When an invocation times out
or fails, Lambda retries it later (``MaximumRetryAttempts`` of the function's
EventInvokeConfig, 2 when there is none; about one minute before the second attempt and two
before the third), unless the event is older than ``MaximumEventAgeInSeconds`` (6 hours by
default). CloudFormation has long had its answer by then (crhelper answers FAILED before the
Timeout), so a retry lands after the rollback. Lambda also delivers an event at least once:
sometimes twice with no failure at all.

Time here is a virtual clock: it advances by each invocation's duration on the containers'
virtual clock (``lambda_clock``: real time plus every sleep, which costs no real time), jumps to
a retry's due time when the retry is delivered, and moves on when ``advance`` says so (an hour
between two scheduled runs), so minutes of Lambda's waiting cost nothing. Each invocation starts
at this clock's time.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rehearsal.assembly import FunctionSpec
from rehearsal.lambda_runtime import Invocation, LambdaRuntime

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 6 * 3600
RETRY_DELAYS_SECONDS = (60.0, 120.0)


@dataclass(frozen=True)
class AsyncConfig:
    """A function's EventInvokeConfig (Lambda's defaults when it has none)."""

    max_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    max_event_age_seconds: int = DEFAULT_MAX_EVENT_AGE_SECONDS


@dataclass(frozen=True)
class Delivery:
    """One delivery of an event: the first, a retry after a failure, or a duplicate."""

    kind: str  # "first", "retry", "duplicate" or "late duplicate"
    request_type: str
    logical_id: str
    at_seconds: float
    invocation: Invocation


@dataclass(order=True)
class _Retry:
    due: float
    order: int
    event: dict[str, Any] = field(compare=False)
    function: FunctionSpec = field(compare=False)
    environment: tuple[tuple[str, str], ...] = field(compare=False)
    config: AsyncConfig = field(compare=False)
    enqueued: float = field(compare=False)
    attempt: int = field(compare=False)
    kind: str = field(compare=False, default="retry")


class LambdaService:
    """Delivers events to functions asynchronously, retrying and duplicating as Lambda does.

    ``duplicate`` picks events to deliver a second time right after the first (at-least-once
    delivery); ``late_duplicate`` picks events to deliver a second time once the event is as old
    as the function's MaximumEventAge (after CloudFormation has moved on); ``late_first`` gives
    the seconds an event waits before its first delivery (a throttled event may start as late as
    MaximumEventAge, at which the wait is capped); ``timeout_seconds`` replaces every function's
    Timeout.
    """

    def __init__(
        self,
        timeout_seconds: float | None = None,
        duplicate: Callable[[dict[str, Any]], bool] | None = None,
        environment_overrides: dict[str, str] | None = None,
        *,
        late_duplicate: Callable[[dict[str, Any]], bool] | None = None,
        late_first: Callable[[dict[str, Any]], float] | None = None,
    ) -> None:
        self.now = 0.0
        """Seconds since this service started, on the virtual clock."""
        self.epoch = time.time()
        self.deliveries: list[Delivery] = []
        self._timeout_seconds = timeout_seconds
        self._duplicate = duplicate
        self.late_duplicate = late_duplicate
        self.late_first = late_first
        self._overrides = environment_overrides or {}
        self._runtimes: dict[tuple[Any, ...], LambdaRuntime] = {}
        self._retries: list[_Retry] = []
        self._order = itertools.count()
        self._lock = threading.RLock()

    def _runtime(self, function: FunctionSpec, environment: dict[str, str]) -> LambdaRuntime:
        key = (function.key, tuple(sorted(environment.items())))
        with self._lock:
            if key not in self._runtimes:
                self._runtimes[key] = LambdaRuntime(
                    function, {**environment, **self._overrides}, self._timeout_seconds
                )
            return self._runtimes[key]

    def _deliver(
        self,
        kind: str,
        function: FunctionSpec,
        environment: dict[str, str],
        event: dict[str, Any],
    ) -> Invocation:
        invocation = self._runtime(function, environment).invoke(event, self.epoch + self.now)
        with self._lock:
            # A warm container's clock ran on while it was idle: time never goes back.
            self.now = max(self.now + invocation.seconds, invocation.ended_at - self.epoch)
            self.deliveries.append(
                Delivery(
                    kind,
                    str(event.get("RequestType", "Scheduled")),
                    str(event.get("LogicalResourceId", "")),
                    self.now,
                    invocation,
                )
            )
        return invocation

    def invoke_async(
        self,
        function: FunctionSpec,
        environment: dict[str, str],
        config: AsyncConfig,
        event: dict[str, Any],
        after_first: Callable[[Invocation], None] = lambda _: None,
    ) -> Invocation:
        """Deliver ``event``; ``after_first`` runs once the first delivery ended (before any
        duplicate), e.g. to read the answer CloudFormation takes. A failed delivery is queued
        for retry per ``config``."""
        self.deliver_due()
        enqueued = self.now
        if self.late_first is not None:
            wait = min(self.late_first(event), config.max_event_age_seconds)
            with self._lock:
                self.now += wait
        invocation = self._deliver("first", function, environment, event)
        after_first(invocation)
        if invocation.failed:
            self._schedule_retry(function, environment, config, event, enqueued, attempt=1)
        elif self._duplicate is not None and self._duplicate(event):
            self._deliver("duplicate", function, environment, event)
        if self.late_duplicate is not None and self.late_duplicate(event):
            self._queue(
                enqueued + config.max_event_age_seconds,
                function,
                environment,
                config,
                event,
                enqueued,
                attempt=config.max_retry_attempts + 1,  # a failure of it is not retried
                kind="late duplicate",
            )
        return invocation

    def _queue(
        self,
        due: float,
        function: FunctionSpec,
        environment: dict[str, str],
        config: AsyncConfig,
        event: dict[str, Any],
        enqueued: float,
        attempt: int,
        kind: str = "retry",
    ) -> None:
        retry = _Retry(
            due,
            next(self._order),
            event,
            function,
            tuple(sorted(environment.items())),
            config,
            enqueued,
            attempt,
            kind,
        )
        with self._lock:
            heapq.heappush(self._retries, retry)

    def _schedule_retry(
        self,
        function: FunctionSpec,
        environment: dict[str, str],
        config: AsyncConfig,
        event: dict[str, Any],
        enqueued: float,
        attempt: int,
    ) -> None:
        if attempt > min(config.max_retry_attempts, len(RETRY_DELAYS_SECONDS)):
            return
        due = self.now + RETRY_DELAYS_SECONDS[attempt - 1]
        if due - enqueued > config.max_event_age_seconds:
            return  # Lambda discards events older than MaximumEventAgeInSeconds
        self._queue(due, function, environment, config, event, enqueued, attempt)

    def _deliver_retry(self, retry: _Retry) -> None:
        with self._lock:
            self.now = max(self.now, retry.due)
        invocation = self._deliver(retry.kind, retry.function, dict(retry.environment), retry.event)
        if invocation.failed:
            self._schedule_retry(
                retry.function,
                dict(retry.environment),
                retry.config,
                retry.event,
                retry.enqueued,
                retry.attempt + 1,
            )

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, delivering the retries that fall due meanwhile."""
        with self._lock:
            until = self.now + seconds
        while True:
            with self._lock:
                if not self._retries or self._retries[0].due > until:
                    self.now = max(self.now, until)
                    return
                retry = heapq.heappop(self._retries)
            self._deliver_retry(retry)

    def time(self) -> float:
        """The virtual clock as epoch seconds (what ``time.time()`` reads in a container)."""
        return self.epoch + self.now

    def deliver_due(self) -> None:
        """Deliver the retries whose time has come."""
        while True:
            with self._lock:
                if not self._retries or self._retries[0].due > self.now:
                    return
                retry = heapq.heappop(self._retries)
            self._deliver_retry(retry)

    def drain(self) -> None:
        """Let time pass until every queued retry has been delivered (a late duplicate waits
        for its time: ``advance``)."""
        while True:
            with self._lock:
                retries = [r for r in self._retries if r.kind == "retry"]
                if not retries:
                    return
                retry = min(retries)
                self._retries.remove(retry)
                heapq.heapify(self._retries)
            self._deliver_retry(retry)

    def logs(self) -> str:
        """Everything every delivery logged, in order."""
        return "".join(delivery.invocation.log for delivery in self.deliveries)

    def cold_starts(self) -> int:
        """Containers started so far."""
        return sum(runtime.cold_starts for runtime in self._runtimes.values())

    def close(self) -> None:
        """Stop every container."""
        for runtime in self._runtimes.values():
            runtime.close()
        self._runtimes.clear()
