"""The example organization app's two stacks, synthesized for the stand-in's two accounts.

``examples/organization_share_app.py`` makes the management account's reader role stack and the
image account's sharing stack. It is synthesized once, with the stand-in's account IDs; each
scenario then points the sharing stack's share at its own image and OUs, as a user editing the
construct's properties would.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    IMAGE_ID_PROPERTY,
    ORGANIZATION_RESOURCE_TYPE,
    PARENT_IDS_PROPERTY,
)
from rehearsal.assembly import StackTemplate, read_templates, synthesize
from rehearsal.local_aws import ACCOUNT_ID
from rehearsal.organization import MANAGEMENT_ACCOUNT_ID

EXAMPLE_APP = "python examples/organization_share_app.py"
READER_STACK = "OrganizationReader"
SHARING_STACK = "ImageSharing"


@dataclass(frozen=True)
class OrganizationApp:
    """The reader role's stack (management account) and the sharing stack (image account)."""

    reader: StackTemplate
    sharing: StackTemplate

    def sharing_for(self, image_id: str, parent_ids: list[str], **properties: Any) -> StackTemplate:
        """The sharing stack with its share set to ``image_id``, ``parent_ids`` and any other
        of its properties (``AccountIds=[...]``, ``MaxRevocationsPerRun="5"``)."""
        template = copy.deepcopy(self.sharing.template)
        for resource in template["Resources"].values():
            if resource["Type"] == ORGANIZATION_RESOURCE_TYPE:
                resource["Properties"].update(
                    {IMAGE_ID_PROPERTY: image_id, PARENT_IDS_PROPERTY: parent_ids, **properties}
                )
        return StackTemplate(self.sharing.name, template, self.sharing.outdir)


def synthesize_organization_app(outdir: Path) -> OrganizationApp:
    """Synthesize the example organization app for the stand-in's accounts."""
    synthesize(
        outdir,
        EXAMPLE_APP,
        {"managementAccount": MANAGEMENT_ACCOUNT_ID, "imageAccount": ACCOUNT_ID},
    )
    stacks = {stack.name: stack for stack in read_templates(outdir)}
    return OrganizationApp(stacks[READER_STACK], stacks[SHARING_STACK])
