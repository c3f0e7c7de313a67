"""Bound how many shares CloudFormation runs at once, so WorkSpaces does not throttle a large
stack into failure: every share in a stack is put in one of ``MAX_CONCURRENT_SHARES`` lanes,
and each share depends on the one before it in its lane.

A share's lane comes from a hash of what it shares (not its position), and shares are ordered
in a lane by the same key: reordering declarations changes nothing, and removing a share only
changes the DependsOn of the one after it (which CloudFormation applies without an Update).
"""

from __future__ import annotations

import hashlib
import json

import jsii
from aws_cdk import IAspect, Stack, Token
from constructs import Construct, IConstruct

MAX_CONCURRENT_SHARES = 10


def stable_key(scope: Construct, value: str) -> str:
    """A synth-stable text for ``value``: itself, or for a token what it resolves to."""
    if not Token.is_unresolved(value):
        return value
    return json.dumps(Stack.of(scope).resolve(value), sort_keys=True)


def short_hash(text: str) -> str:
    """Eight hex digits of SHA-256 (Python's hash() changes between processes)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


@jsii.implements(IAspect)
class ShareLanes:
    """Chains the registered shares into lanes when the stack is prepared for synthesis."""

    def __init__(self, owner: IConstruct, lanes: int = MAX_CONCURRENT_SHARES) -> None:
        self._owner = owner
        self._lanes = lanes
        self._shares: dict[str, Construct] = {}

    def register(self, key: str, share: Construct) -> None:
        """Add a share (its CloudFormation resource) under its stable ``key``."""
        self._shares[key] = share

    def visit(self, node: IConstruct) -> None:
        if node is not self._owner:
            return
        last_in_lane: dict[int, Construct] = {}
        for key in sorted(self._shares):
            share = self._shares[key]
            lane = int(short_hash(key), 16) % self._lanes
            if lane in last_in_lane:
                share.node.add_dependency(last_in_lane[lane])
            last_in_lane[lane] = share
