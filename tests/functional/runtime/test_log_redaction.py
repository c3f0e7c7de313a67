"""No log line carries the ResponseURL, at any level, logged the way the Lambda runtime logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from rehearsal.cloudformation import CloudFormation
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_runtime import handler_in_process
from rehearsal.local_aws import LocalAws
from tests.support.values import FUNCTION_TIMEOUT_SECONDS

FIRST = "111122223333"


@pytest.fixture
def runtime_log(aws: LocalAws) -> Iterator[tuple[io.StringIO, object]]:
    """The handler imported with LOG_LEVEL=DEBUG under a runtime-like root handler."""
    stream = io.StringIO()
    runtime_handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(runtime_handler)
    level = root.level
    try:
        with handler_in_process({**aws.environment, "LOG_LEVEL": "DEBUG"}) as m:
            yield stream, m["pair.entry"]
    finally:
        root.removeHandler(runtime_handler)
        root.setLevel(level)


def test_debug_logs_carry_no_response_url(
    image_id: str, cloudformation: CloudFormation, runtime_log: tuple[io.StringIO, object]
) -> None:
    stream, index = runtime_log
    events = [
        cloudformation.event("Create", "Share", {"ImageId": image_id, "SharedAccountId": FIRST}),
        cloudformation.event("Create", "Bad", {"ImageId": "wsi-bad", "SharedAccountId": FIRST}),
    ]
    events.append(
        cloudformation.event(
            "Delete",
            "Share",
            {"ImageId": image_id, "SharedAccountId": FIRST},
            physical_id=f"{image_id}/{FIRST}",
        )
    )
    for event in events:
        index.handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))  # type: ignore[attr-defined]
    text = stream.getvalue()
    assert "DEBUG" in text or "CFN response URL" in text or "RequestType" in text
    assert "<presigned URL redacted>" in text  # crhelper did try to log it
    for event in events:
        url = event["ResponseURL"]
        assert url not in text
        assert url.split("?")[1] not in text
        assert "X-Amz-Signature" not in text
