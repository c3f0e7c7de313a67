"""What the constructs need to know of a stack, read once per stack."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_cdk import Stack
from constructs import Construct, IConstruct

from cdk_workspaces_image_sharing.core.tokens import is_literal

_One = TypeVar("_One", bound=Construct)


@dataclass
class StackFacts:
    """A stack, its construct path, and its account and Region when known at synth (None when
    they are tokens). ``shared`` holds per-stack objects the constructs find or make once
    (the sharing function, the App's registry)."""

    stack: Stack
    path: str
    account: str | None
    region: str | None
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def environment(self) -> tuple[str | None, str | None]:
        return (self.account, self.region)

    def one_of(self, kind: type[_One], parent: Construct, construct_id: str) -> _One:
        """The ``kind`` child ``construct_id`` of ``parent`` (the stack, or the App's root),
        found or made once, then remembered for this stack."""
        known = self.shared.get(construct_id)
        if isinstance(known, kind):
            return known
        existing = parent.node.try_find_child(construct_id)
        one = existing if isinstance(existing, kind) else kind(parent, construct_id)
        self.shared[construct_id] = one
        return one


_FACTS: weakref.WeakKeyDictionary[Stack, StackFacts] = weakref.WeakKeyDictionary()


def stack_facts(scope: IConstruct) -> StackFacts:
    """The facts of ``scope``'s stack (read on first use)."""
    stack = Stack.of(scope)
    facts = _FACTS.get(stack)
    if facts is None:
        account, region = stack.account, stack.region
        facts = _FACTS[stack] = StackFacts(
            stack,
            stack.node.path,
            account if is_literal(account) else None,
            region if is_literal(region) else None,
        )
    return facts
