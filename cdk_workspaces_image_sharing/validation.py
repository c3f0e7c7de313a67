"""Synth-time checks of literal share properties; unresolved tokens are left to the handler."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from cdk_workspaces_image_sharing.handler.share import account_id_problem, image_id_problem
from cdk_workspaces_image_sharing.tokens import is_literal


def check_image_id(scope: Construct, image_id: object) -> None:
    """Raise ValueError naming the construct path when a literal image ID is malformed."""
    problem = image_id_problem(image_id) if is_literal(image_id) else None
    if problem:
        raise ValueError(f"{scope.node.path}: {problem}")


def check_account_id(scope: Construct, account_id: object) -> None:
    """Raise ValueError naming the construct path when a literal account ID is malformed or
    is the stack's own account (when that is known)."""
    if not is_literal(account_id):
        return
    owner = Stack.of(scope).account
    problem = account_id_problem(account_id, owner if is_literal(owner) else None)
    if problem:
        raise ValueError(f"{scope.node.path}: {problem}")
