"""A progress line on stderr, shown only when stderr is a terminal and reading takes more than
a moment."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

DELAY_SECONDS = 0.5
# What the readers call at each step (a ProgressLine, or nothing).
ProgressCallback = Callable[[str], None]


class ProgressLine:
    """Call with a short text at each step; ``done()`` clears the line."""

    def __init__(
        self,
        stream: TextIO,
        *,
        delay_seconds: float = DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._stream = stream
        self._clock = clock
        self._since = clock() + delay_seconds
        self._shown = False

    def __call__(self, text: str) -> None:
        if not self.enabled or self._clock() < self._since:
            return
        self._stream.write(f"\r\x1b[K{text}")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._shown = False
