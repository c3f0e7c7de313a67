"""The share ledger's table on the local endpoint, and a client that lets a test interleave."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    LEDGER_PARTITION_KEY,
    LEDGER_SORT_KEY,
)

# The ledger's writes, by their botocore method names.
LEDGER_WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items"})


def create_ledger_table(client: Any, name: str | None = None) -> str:
    """Create a table with the ledger's key schema (``pk``, ``sk``: strings); return its name
    (a fresh one unless given)."""
    name = name or f"share-ledger-{uuid.uuid4().hex[:12]}"
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": LEDGER_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": LEDGER_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": LEDGER_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": LEDGER_SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def table_items(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table as DynamoDB returns it, by (pk, sk)."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            items[(item[LEDGER_PARTITION_KEY]["S"], item[LEDGER_SORT_KEY]["S"])] = item
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class BeforeWrites:
    """A DynamoDB client that runs ``meanwhile`` before each of its next ``times`` writes.

    The ledger reads an item and then writes it on the condition that it did not change, so
    ``meanwhile`` runs exactly between that read and that write: another writer's update lands
    where a real race would put it. Every call is recorded in ``calls`` (method, request).
    """

    def __init__(self, client: Any, meanwhile: Callable[[], None], times: int = 1) -> None:
        self._client = client
        self._meanwhile = meanwhile
        self.remaining = times
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**request: Any) -> Any:
            if name in LEDGER_WRITES and self.remaining > 0:
                self.remaining -= 1
                self._meanwhile()
            self.calls.append((name, request))
            return method(**request)

        return call

    def count(self, name: str) -> int:
        """How many calls of ``name`` were made."""
        return sum(1 for method, _ in self.calls if method == name)
