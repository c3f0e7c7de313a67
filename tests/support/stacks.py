"""A stack whose state a test sets by hand, readable through the local CloudFormation API."""

from __future__ import annotations

from dataclasses import dataclass, field

from rehearsal.cloudformation import STACK_ID
from rehearsal.cloudformation_reads import ResourceRow

SHARE_TYPE = "Custom::WorkspaceImagePermission"


@dataclass
class HandSetStack:
    """Implements ``cloudformation_reads.ReadableStack`` with rows a test writes."""

    stack_id: str = STACK_ID
    name: str = "Rehearsal"
    status: str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    created: str = "2026-01-01T00:00:00.000Z"
    last_updated: str = "2026-01-01T00:00:01.000Z"
    rows: list[ResourceRow] = field(default_factory=list)

    def resource_rows(self) -> list[ResourceRow]:
        return list(self.rows)

    def hold(self, logical_id: str, physical_id: str, status: str = "UPDATE_COMPLETE") -> None:
        """Add a share resource holding ``physical_id``."""
        self.rows.append(
            ResourceRow(logical_id, physical_id, SHARE_TYPE, status, self.last_updated)
        )
