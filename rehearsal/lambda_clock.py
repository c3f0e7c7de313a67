"""The stand-in's virtual clock inside a Lambda-like container.

Installed by the container's bootstrap before the handler is imported, so every reader of time
gets it: ``time.time``, ``time.monotonic`` and ``time.sleep`` (botocore's retry back-off, the
handler's pacing, crhelper), ``threading.Timer`` (crhelper's answer before the Timeout) and the
context's remaining time. Virtual time runs with real time, and a sleep moves it forward at
once instead of waiting: a run paced over 900 s of Timeout takes the seconds its calls take.
Each invocation starts at the Lambda service's clock (``advance_to``), so time that passes
between invocations (a schedule's hour, Lambda's wait before a retry) passes here too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_real_monotonic = time.monotonic
_real_time = time.time
_real_sleep = time.sleep
_POLL_SECONDS = 0.02


class VirtualClock:
    """Real time plus the seconds every sleep skipped; never goes backwards."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._epoch = _real_time() - _real_monotonic()  # time() = epoch + monotonic()
        self._changed = threading.Condition()
        self._timers: set[float] = set()  # due times of the timers waiting
        self.deadline: float | None = None
        """The invocation's Timeout (``monotonic()``): no sleep reaches past it."""

    def monotonic(self) -> float:
        return _real_monotonic() + self._offset

    def time(self) -> float:
        return self._epoch + self.monotonic()

    def sleep(self, seconds: float) -> None:
        """Skip ``seconds`` at once, stopping at each timer due on the way for it to run; a
        sleep that reaches the deadline stops there, where the invocation is stopped."""
        target = self.monotonic() + max(seconds, 0.0)
        while True:
            with self._changed:
                due = min((t for t in self._timers if t < target), default=target)
                if self.deadline is not None:
                    due = min(due, self.deadline)
                self._offset = max(self._offset, due - _real_monotonic())
                self._changed.notify_all()
            if due >= target:
                _real_sleep(0)
                return
            _real_sleep(_POLL_SECONDS)  # the timer, or the stop at the deadline, runs now

    def advance_to(self, epoch_seconds: float) -> None:
        """Move ``time()`` forward to ``epoch_seconds`` (no change if it is already later)."""
        with self._changed:
            self._offset = max(self._offset, epoch_seconds - self._epoch - _real_monotonic())
            self._changed.notify_all()

    def wait_until(self, due: float, cancelled: threading.Event) -> bool:
        """Block until ``monotonic()`` reaches ``due`` (True) or ``cancelled`` is set (False);
        a sleep stops at ``due`` on its way past it."""
        with self._changed:
            self._timers.add(due)
        try:
            while not cancelled.is_set():
                with self._changed:
                    remaining = due - self.monotonic()
                    if remaining <= 0:
                        return True
                    self._changed.wait(min(remaining, _POLL_SECONDS))
            return False
        finally:
            with self._changed:
                self._timers.discard(due)


CLOCK = VirtualClock()


class VirtualTimer(threading.Thread):
    """``threading.Timer`` on the virtual clock."""

    def __init__(
        self,
        interval: float,
        function: Callable[..., Any],
        args: Any = None,
        kwargs: Any = None,
    ) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = threading.Event()
        self._due = 0.0

    def start(self) -> None:
        self._due = CLOCK.monotonic() + self.interval
        super().start()

    def cancel(self) -> None:
        self.finished.set()

    def run(self) -> None:
        if CLOCK.wait_until(self._due, self.finished):
            self.function(*self.args, **self.kwargs)
        self.finished.set()


def install() -> VirtualClock:
    """Put the virtual clock in place of the process's time functions and Timer."""
    time.time = CLOCK.time
    time.time_ns = lambda: int(CLOCK.time() * 1e9)
    time.monotonic = CLOCK.monotonic
    time.sleep = CLOCK.sleep  # type: ignore[assignment]
    threading.Timer = VirtualTimer  # type: ignore[misc,assignment]
    return CLOCK
