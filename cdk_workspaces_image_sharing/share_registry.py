"""The App-wide record of declared shares: refuses a pair declared twice and places each share in
its stack's concurrency lane.

Deleting either of two resources that declare one pair revokes the other's share, so a pair
may be declared once per App and environment. Within a stack, pairs are compared by their
synth-stable keys (a token counts by what it resolves to). Across stacks only literal pairs are
compared (two stacks may name their parameters alike), and only between stacks whose account
and Region may be the same: an account or Region unknown at synth matches every one.
"""

from __future__ import annotations

from aws_cdk import Aspects, Stack
from constructs import Construct

from cdk_workspaces_image_sharing.concurrency import ShareLanes
from cdk_workspaces_image_sharing.handler.image_account_pair import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
)
from cdk_workspaces_image_sharing.tokens import is_literal, stable_key

_ID = "WorkspaceImageShareRegistry"


def _environment(stack: Stack) -> tuple[str | None, str | None]:
    return (
        stack.account if is_literal(stack.account) else None,
        stack.region if is_literal(stack.region) else None,
    )


def _may_be_same(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


class ShareRegistry(Construct):
    """One per App (a child of the root); find or make it with ``get_or_create``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # stack path -> {pair key: declaring construct path}
        self._keys: dict[str, dict[str, str]] = {}
        # literal (image, account) -> [(environment, declaring construct path)]
        self._literals: dict[tuple[str, str], list[tuple[tuple[str | None, str | None], str]]] = {}
        self._lanes: dict[str, ShareLanes] = {}

    @classmethod
    def get_or_create(cls, scope: Construct) -> ShareRegistry:
        """The registry of ``scope``'s App, added to the App on first use."""
        root = scope.node.root
        existing = root.node.try_find_child(_ID)
        if isinstance(existing, ShareRegistry):
            return existing
        return cls(root, _ID)  # type: ignore[arg-type]  # the root is a Construct

    def register_share(self, declaring: Construct, image_id: str, account_id: str) -> None:
        """Record that ``declaring`` shares ``image_id`` with ``account_id``, and chain its
        CloudFormation resource (its ``Resource`` child, made next) into its stack's lane.

        Raises ValueError naming both construct paths when the pair is already declared.
        """
        stack = Stack.of(declaring)
        key = f"{stable_key(declaring, image_id)}/{stable_key(declaring, account_id)}"
        in_stack = self._keys.setdefault(stack.node.path, {})
        first = in_stack.get(key)
        if first is None and is_literal(image_id) and is_literal(account_id):
            environment = _environment(stack)
            declared = self._literals.setdefault((image_id, account_id), [])
            first = next((path for env, path in declared if _may_be_same(env, environment)), None)
            if first is None:
                declared.append((environment, declaring.node.path))
        if first is not None:
            raise ValueError(
                f"{declaring.node.path}: {IMAGE_ID_PROPERTY} {image_id!r} is already shared "
                f"with {ACCOUNT_ID_PROPERTY} {account_id!r} by {first}: expected each image and "
                "account once per App and environment (deleting either would revoke the "
                "other's share)"
            )
        in_stack[key] = declaring.node.path
        self._lanes_of(stack).register(key, declaring)

    def _lanes_of(self, stack: Stack) -> ShareLanes:
        lanes = self._lanes.get(stack.node.path)
        if lanes is None:
            lanes = self._lanes[stack.node.path] = ShareLanes(stack)
            Aspects.of(stack).add(lanes)
        return lanes
