"""Pace WorkSpaces calls, and stop before the function's Timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

# At most two image-permission calls a second: 1,000 shares take 500 s of the 900 s a function
# may run (README, "Sharing with an organization").
CALL_INTERVAL_SECONDS = 0.5


class OutOfTime(RuntimeError):
    """The next call would start too close to the deadline; nothing more is done this run."""


class Pacer:
    """Spaces calls ``interval`` seconds apart (the first goes at once) and refuses to start
    one after ``deadline`` (a ``clock()`` value; None: no deadline)."""

    def __init__(
        self,
        interval: float = CALL_INTERVAL_SECONDS,
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.deadline = deadline
        self.calls = 0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        """Wait for the next slot; raise OutOfTime if it falls after the deadline."""
        now = self._clock()
        start = now if self._next is None else max(now, self._next)
        if self.deadline is not None and start > self.deadline:
            raise OutOfTime(f"stopped after {self.calls} calls to answer before the Timeout")
        if start > now:
            self._sleep(start - now)
        self._next = start + self.interval
        self.calls += 1

    @classmethod
    def for_remaining_time(
        cls,
        remaining_seconds: float,
        margin_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Pacer:
        """A pacer at ``CALL_INTERVAL_SECONDS`` (read now, so tests may shorten it) whose
        deadline leaves ``margin_seconds`` of ``remaining_seconds`` unused."""
        return cls(
            CALL_INTERVAL_SECONDS,
            deadline=clock() + remaining_seconds - margin_seconds,
            clock=clock,
            sleep=sleep,
        )
