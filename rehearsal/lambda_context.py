"""A Lambda context object whose remaining time runs down from the function's Timeout."""

from __future__ import annotations

import time
import uuid


class LambdaContext:
    """The parts of Lambda's context that crhelper and the handler use."""

    def __init__(
        self,
        timeout_seconds: float,
        function_name: str = "sharing-function",
        aws_request_id: str | None = None,
    ) -> None:
        self._deadline = time.monotonic() + timeout_seconds
        self.function_name = function_name
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda would stop the invocation."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
