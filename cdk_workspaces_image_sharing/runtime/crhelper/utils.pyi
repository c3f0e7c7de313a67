from typing import Any

logger: Any
