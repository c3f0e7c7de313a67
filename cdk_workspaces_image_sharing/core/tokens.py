"""Values that may be CDK tokens: whether they are known at synth, and synth-stable keys."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property

from aws_cdk import Stack, Token
from constructs import IConstruct

# How the CDK encodes a token in a string, and the one element of a list token.
_STRING_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")
_LIST_TOKEN = re.compile(r"#\{Token\[[^\]]+\]\}")


def is_literal(value: object) -> bool:
    """True when ``value`` is known at synth time (not a token): a string holding a
    ``${Token[…]}`` marker, or a list whose one element is a ``#{Token[…]}`` marker, is a token
    (a list of strings among which one is a token is not itself one), as
    ``Token.is_unresolved`` says. So is an element of a list token (a ``#{Token[…]}`` string,
    met when iterating a ``CommaDelimitedList``), which ``Token.is_unresolved`` calls resolved.
    Strings and lists of strings are read here: asking the CDK is a round trip to its Node
    process, and synth asks for every share."""
    if isinstance(value, str):
        return not (_STRING_TOKEN.search(value) or _LIST_TOKEN.search(value))
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return not (len(value) == 1 and _LIST_TOKEN.search(value[0]))
    return not Token.is_unresolved(value)


class SynthValue:
    """A property value as a construct was given it, read once: whether it is known at synth
    (``literal``), and a synth-stable ``key`` (itself, or for a token what it resolves to)."""

    def __init__(self, scope: IConstruct, value: str) -> None:
        self.value = value
        self.literal = is_literal(value)
        self._scope = scope

    @cached_property
    def key(self) -> str:
        """The value itself, or for a token what it resolves to, as JSON."""
        if self.literal:
            return self.value
        return json.dumps(Stack.of(self._scope).resolve(self.value), sort_keys=True)


def short_hash(text: str) -> str:
    """Eight hex digits of SHA-256 (Python's hash() changes between processes)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]
