"""STS's AssumeRole as strict as the service, where moto is not.

moto assumes any role, existing or not, whatever its trust policy. STS answers AccessDenied
both when the role does not exist and when its trust policy does not allow the caller (the two
cannot be told apart). This evaluates the role's trust policy for a caller whose principal ARN
the stand-in knows (a function's role): an Allow statement for ``sts:AssumeRole`` whose
``Principal`` names the caller's account root, its role ARN or ``*``, and whose conditions
all hold. Only ``ArnLike``, ``ArnEquals``, ``StringLike`` and ``StringEquals`` on
``aws:PrincipalArn`` are known; a statement with any other condition does not allow.
"""

from __future__ import annotations

import fnmatch
import json
import operator
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.iam.models import iam_backends

ASSUME_ROLE_ACTIONS = frozenset({"sts:AssumeRole", "sts:*", "*"})
_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "ArnLike": fnmatch.fnmatchcase,
    "StringLike": fnmatch.fnmatchcase,
    "ArnEquals": operator.eq,
    "StringEquals": operator.eq,
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_ACCESS_KEY = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")


def _role(role_arn: str) -> Any:
    """The role ``role_arn`` in moto's IAM, or None when there is none."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return None
    name = parts[5].rsplit("/", 1)[-1]
    backend = iam_backends[parts[4]]["global"]
    return next((r for r in backend.roles.values() if r.name == name), None)


def _parse(document: str) -> dict[str, Any]:
    return dict(json.loads(unquote(document) if document.startswith("%") else document))


def _role_trust(role_arn: str) -> dict[str, Any] | None:
    """The trust policy of the role ``role_arn`` in moto's IAM, or None when there is none."""
    role = _role(role_arn)
    return None if role is None else _parse(role.assume_role_policy_document)


def role_policies(role_arn: str) -> list[dict[str, Any]]:
    """The inline policies of ``role_arn`` as moto's IAM holds them now (none if it is gone)."""
    role = _role(role_arn)
    return [] if role is None else [_parse(doc) for doc in role.policies.values()]


def issued_access_key(answer: bytes) -> str | None:
    """The access key of the credentials an AssumeRole answer hands out."""
    match = _ACCESS_KEY.search(answer)
    return match.group(1).decode() if match else None


def _conditions_hold(conditions: dict[str, Any], principal_arn: str) -> bool:
    for condition, tests in conditions.items():
        matcher = _MATCHERS.get(condition)
        if matcher is None:
            return False
        for key, patterns in tests.items():
            if key != "aws:PrincipalArn":
                return False
            if not any(matcher(principal_arn, pattern) for pattern in _as_list(patterns)):
                return False
    return True


def _principal_matches(principal: Any, principal_arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    account = principal_arn.split(":")[4]
    named = _as_list(principal.get("AWS", []))
    return any(p in ("*", principal_arn, f"arn:aws:iam::{account}:root", account) for p in named)


def refusal(role_arn: str, principal_arn: str) -> str | None:
    """Why STS refuses ``principal_arn`` assuming ``role_arn`` (an AccessDenied message), or
    None when the role exists and its trust policy allows it."""
    denied = f"User: {principal_arn} is not authorized to perform: sts:AssumeRole on {role_arn}"
    trust = _role_trust(role_arn)
    if trust is None:
        return denied
    for statement in _as_list(trust.get("Statement", [])):
        actions = set(_as_list(statement.get("Action", [])))
        if (
            statement.get("Effect") == "Allow"
            and actions & ASSUME_ROLE_ACTIONS
            and _principal_matches(statement.get("Principal"), principal_arn)
            and _conditions_hold(statement.get("Condition", {}), principal_arn)
        ):
            return None
    return denied
