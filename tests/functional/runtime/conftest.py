"""Load the handler as Lambda does: the asset root on sys.path, ``sharing_functions`` as a
top-level package."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from rehearsal.cloudformation import CloudFormation, Response
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_runtime import handler_in_process
from rehearsal.local_aws import LocalAws
from tests.support.handler_runs import Invoke
from tests.support.values import FUNCTION_TIMEOUT_SECONDS


@pytest.fixture
def handler_modules(aws: LocalAws) -> Iterator[dict[str, ModuleType]]:
    """Freshly imported handler modules, talking to the local endpoint."""
    with handler_in_process(aws.environment) as modules:
        yield modules


@pytest.fixture
def invoke(handler_modules: dict[str, ModuleType], cloudformation: CloudFormation) -> Invoke:
    """Run the handler on an event and return its checked answer to CloudFormation."""

    def run(event: dict[str, Any]) -> Response:
        handler_modules["pair.entry"].handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))
        return cloudformation.response(event)

    return run
