"""Values that may be CDK tokens: whether they are known at synth, and synth-stable keys."""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Stack, Token
from constructs import IConstruct


def is_literal(value: object) -> bool:
    """True when ``value`` is known at synth time (not a token)."""
    return not Token.is_unresolved(value)


def stable_key(scope: IConstruct, value: str) -> str:
    """A synth-stable text for ``value``: itself, or for a token what it resolves to."""
    if is_literal(value):
        return value
    return json.dumps(Stack.of(scope).resolve(value), sort_keys=True)


def short_hash(text: str) -> str:
    """Eight hex digits of SHA-256 (Python's hash() changes between processes)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]
