"""A stack whose state a test sets by hand, readable through the local CloudFormation API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from rehearsal.cloudformation import STACK_ID
from rehearsal.cloudformation_reads import ResourceRow
from rehearsal.local_aws import ACCOUNT_ID, REGION, LocalAws

SHARE_TYPE = PAIR_RESOURCE_TYPE


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

    def hold(
        self,
        logical_id: str,
        physical_id: str,
        status: str = "UPDATE_COMPLETE",
        resource_type: str = SHARE_TYPE,
    ) -> None:
        """Add a resource (a per-pair share unless ``resource_type`` says) holding
        ``physical_id``."""
        self.rows.append(
            ResourceRow(logical_id, physical_id, resource_type, status, self.last_updated)
        )


def hand_set_stack(aws: LocalAws, name: str, status: str) -> HandSetStack:
    """A stand-in stack a test fills by hand, readable through the local CloudFormation API."""
    stack = HandSetStack(
        stack_id=f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{name}/{uuid.uuid4()}",
        name=name,
        status=status,
    )
    aws.faults.stacks.register(stack)
    return stack
