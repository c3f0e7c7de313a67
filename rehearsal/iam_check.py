"""IAM for the function's calls: each is allowed or denied by its role's identity policies as
they stand at that moment, evaluated with moto's policy evaluator (explicit Deny wins, no
Allow means denied)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

# The access key in a request's Authorization header: Credential=<key>/<date>/<region>/...
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
PolicySource = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True)
class Caller:
    """Who signed a request and for which service and Region."""

    access_key: str
    region: str
    service: str


def caller(authorization: str) -> Caller | None:
    """Read the signer from an ``Authorization`` header (SigV4), or None."""
    match = _CREDENTIAL.search(authorization)
    return Caller(*match.groups()) if match else None


def is_allowed(documents: Iterable[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether identity policies ``documents`` allow ``action`` on ``resource``."""
    allowed = False
    for document in documents:
        result = IAMPolicy({"policy_document": json.dumps(document)}).is_action_permitted(
            action, resource
        )
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed


class RoleDirectory:
    """Maps access keys to roles whose policies are enforced; other keys (the harness's) are
    not checked."""

    def __init__(self) -> None:
        self._roles: dict[str, PolicySource] = {}
        self._principals: dict[str, str] = {}

    def register(
        self, access_key: str, policies: PolicySource, principal_arn: str | None = None
    ) -> None:
        """Enforce ``policies()`` (read at each call) on requests signed with ``access_key``;
        ``principal_arn`` is the role's ARN, for the trust policies of roles it assumes."""
        self._roles[access_key] = policies
        if principal_arn is not None:
            self._principals[access_key] = principal_arn

    def principal(self, access_key: str) -> str | None:
        """The role ARN of ``access_key``, when known."""
        return self._principals.get(access_key)

    def denies(self, access_key: str, action: str, resource: str) -> bool:
        """True when ``access_key`` belongs to a role whose policies do not allow it."""
        policies = self._roles.get(access_key)
        return policies is not None and not is_allowed(policies(), action, resource)


# TransactWriteItems is authorized as the action of each of its items.
_TRANSACT_ACTIONS = {
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
}


def dynamodb_actions(target: str, request: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, table) pairs IAM authorizes for one DynamoDB request."""
    if target == "TransactWriteItems":
        return [
            (_TRANSACT_ACTIONS[kind], str(operation.get("TableName", "")))
            for item in request.get("TransactItems", [])
            for kind, operation in item.items()
            if kind in _TRANSACT_ACTIONS
        ]
    return [(f"dynamodb:{target}", str(request.get("TableName", "")))]
