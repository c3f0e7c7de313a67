"""The App-wide record of declared shares: refuses a pair declared twice and places each share in
its stack's concurrency lane.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Aspects
from constructs import Construct

from cdk_workspaces_image_sharing.core.stack_facts import StackFacts, stack_facts
from cdk_workspaces_image_sharing.core.tokens import SynthValue
from cdk_workspaces_image_sharing.pair.lanes import ShareLanes
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
)

_ID = "WorkspaceImageShareRegistry"


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
    def get_or_create(cls, scope: Construct, facts: StackFacts | None = None) -> ShareRegistry:
        """The registry of ``scope``'s App, added to the App on first use."""
        facts = facts or stack_facts(scope)
        if isinstance(known := facts.shared.get(_ID), ShareRegistry):
            return known  # without asking for the root
        root = cast(Construct, scope.node.root)  # an App, a Construct
        return facts.one_of(cls, root, _ID)

    def register_share(
        self,
        declaring: Construct,
        image_id: SynthValue,
        account_id: SynthValue,
        facts: StackFacts,
        path: str,
    ) -> None:
        """Record that ``declaring`` (at construct ``path``) shares ``image_id`` with
        ``account_id``, and chain its CloudFormation resource (its ``Resource`` child, made
        next) into its stack's lane.

        Raises ValueError naming both construct paths when the pair is already declared.
        """
        stack_path, environment = facts.path, facts.environment
        key = f"{image_id.key}/{account_id.key}"
        literal = image_id.literal and account_id.literal
        in_stack = self._keys.setdefault(stack_path, {})
        first = in_stack.get(key)
        if first is None and literal:
            declared = self._literals.setdefault((image_id.value, account_id.value), [])
            first = next((p for env, p in declared if _may_be_same(env, environment)), None)
            if first is None:
                declared.append((environment, path))
        if first is not None:
            raise ValueError(
                f"{path}: {IMAGE_ID_PROPERTY} {image_id.value!r} is already shared "
                f"with {ACCOUNT_ID_PROPERTY} {account_id.value!r} by {first}: expected each image "
                "and account once per App and environment (deleting either would revoke the "
                "other's share)"
            )
        in_stack[key] = path
        self._lanes_of(facts, declaring).register(key, path, literal)

    def _lanes_of(self, facts: StackFacts, first_share: Construct) -> ShareLanes:
        lanes = self._lanes.get(facts.path)
        if lanes is None:
            lanes = self._lanes[facts.path] = ShareLanes(facts.stack, first_share)
            # On one construct of the stack, not the stack: the CDK calls an aspect back for
            # every construct it covers, and the lanes need one call.
            Aspects.of(first_share).add(lanes)
        return lanes
