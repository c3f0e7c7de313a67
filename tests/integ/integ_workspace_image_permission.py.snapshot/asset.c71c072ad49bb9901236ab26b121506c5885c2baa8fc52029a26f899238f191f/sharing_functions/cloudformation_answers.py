"""What every entry point needs to answer CloudFormation: crhelper's CfnResource answering each
request exactly once, a guard for a failed start, and the stack's account.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from crhelper import CfnResource

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _without_polling_clients() -> Iterator[None]:
    """crhelper creates Lambda, EventBridge and CloudWatch Logs clients when it is constructed,
    for its polling mode, which this handler does not use; they add about 200 ms to every cold
    start. It skips them when AWS_SAM_LOCAL is set (its local-run switch, which otherwise only
    affects polling), so set it for the construction alone."""
    previous = os.environ.get("AWS_SAM_LOCAL")
    os.environ["AWS_SAM_LOCAL"] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["AWS_SAM_LOCAL"]
        else:
            os.environ["AWS_SAM_LOCAL"] = previous


# Its private methods are overridden below (crhelper is pinned to 2.0.x for that reason).
_CrhelperResource: Any = CfnResource


class _AnswerOnce(_CrhelperResource):  # type: ignore[misc]
    """CfnResource that sends only its first answer, and whose timer answer carries the
    event's physical ID (see docs/design.md)."""

    def _crhelper_init(self, event: dict[str, Any], context: Any) -> bool:
        self._answered = threading.Lock()
        return bool(super()._crhelper_init(event, context))

    def _wrap_function(self, func: Any) -> None:
        self.PhysicalResourceId = self._event.get("PhysicalResourceId", "")
        super()._wrap_function(func)

    def _send(self, *args: Any, **kwargs: Any) -> None:
        if self._answered.acquire(blocking=False):
            super()._send(*args, **kwargs)
        else:
            logger.warning("not answering again: this request was already answered")


def answering_once() -> CfnResource:
    """A CfnResource for this function: LOG_LEVEL from the environment (default INFO), Deletes
    answered at once, and the response URL's certificate checked against AWS_CA_BUNDLE when set
    (unset in Lambda: the system store is used)."""
    with _without_polling_clients():
        helper: CfnResource = _AnswerOnce(
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            # crhelper waits 120 s before answering a Delete so that logs reach CloudWatch;
            # Lambda flushes them anyway, and the wait would hold every stack deletion.
            sleep_on_delete=0,
            ssl_verify=os.environ.get("AWS_CA_BUNDLE"),  # a CA bundle's path, or None
        )
    return helper


class Startup:
    """Whether the function's init phase (creating its clients) failed. A failure makes every
    request fail at once with the reason, not after the ServiceTimeout. It is raised from the
    request functions rather than given to crhelper's init_failure(), whose answer carries an
    empty PhysicalResourceId, which CloudFormation rejects."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    def failed(self, error: Exception) -> None:
        logger.exception("the function could not create its AWS clients")
        self.error = error

    def check(self) -> None:
        """Raise when the init phase failed."""
        if self.error is not None:
            raise RuntimeError(f"The function could not start: {self.error}")


# The longest Reason the stand-in (and so the handlers) let CloudFormation see; crhelper would
# cut a longer one to a "(truncated)" prefix and its last 240 characters, 259 in all.
MAX_REASON_CHARS = 256


def short_reason(text: str) -> str:
    """``text`` as a Reason: whole when it fits, else its end (where the handlers put the
    summary that matters) behind an ellipsis."""
    return text if len(text) <= MAX_REASON_CHARS else "…" + text[-(MAX_REASON_CHARS - 1) :]


def stack_account(stack_id: str) -> str:
    """The account of ``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>``:
    the one that owns the image (an image can only be shared by its owner)."""
    return stack_id.split(":")[4]
