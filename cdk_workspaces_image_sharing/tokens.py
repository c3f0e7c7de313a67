"""Values that may be CDK tokens: whether they are known at synth, and synth-stable keys."""

from __future__ import annotations

import hashlib
import json
import re

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


def stable_key(scope: IConstruct, value: str) -> str:
    """A synth-stable text for ``value``: itself, or for a token what it resolves to."""
    if is_literal(value):
        return value
    return json.dumps(Stack.of(scope).resolve(value), sort_keys=True)


def short_hash(text: str) -> str:
    """Eight hex digits of SHA-256 (Python's hash() changes between processes)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]
