"""Running the handler in-process, as the handler tests do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rehearsal.cloudformation import Response

# Runs the handler on an event and returns its checked answer to CloudFormation (the ``invoke``
# fixture of tests/functional/runtime/conftest.py).
Invoke = Callable[[dict[str, Any]], Response]
