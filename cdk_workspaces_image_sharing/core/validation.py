"""Synth-time checks of literal share properties; unresolved tokens are left to the function."""

from __future__ import annotations

from constructs import Construct

from cdk_workspaces_image_sharing.core.stack_facts import StackFacts, stack_facts
from cdk_workspaces_image_sharing.core.tokens import SynthValue
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    account_id_problem,
    image_id_problem,
)


def check_image_id(scope: Construct, image_id: SynthValue, keyword: str = "image_id") -> None:
    """Raise ValueError naming the construct path and ``keyword`` when a literal image ID is
    malformed."""
    if not image_id.literal:
        return
    problem = image_id_problem(image_id.value, field=f"{keyword} ({IMAGE_ID_PROPERTY})")
    if problem:
        raise ValueError(f"{scope.node.path}: {problem}")


def check_account_id(
    scope: Construct,
    account_id: SynthValue,
    keyword: str = "shared_account_id",
    facts: StackFacts | None = None,
) -> None:
    """Raise ValueError naming the construct path and ``keyword`` when a literal account ID is
    malformed or is the stack's own account (when that is known)."""
    if not account_id.literal:
        return
    problem = account_id_problem(
        account_id.value,
        (facts or stack_facts(scope)).account,
        field=f"{keyword} ({ACCOUNT_ID_PROPERTY})",
    )
    if problem:
        raise ValueError(f"{scope.node.path}: {problem}")
