"""Organizations' answers as the service gives them today, where moto's are older.

The Organizations API reference: "The Status parameter in the API response will be retired on
September 9, 2026." Since then an account carries ``State`` only; moto still answers both, so
``Status`` is taken out of every account it returns. The list calls "might return an empty
set of results even when there are more results available"; moto never does, so
``empty_page`` makes such a page on demand and ``moto_token`` takes its token back.
"""

from __future__ import annotations

import json
from typing import Any

from moto.organizations.models import organizations_backends

RETIRED_ACCOUNT_FIELDS = ("Status",)
# Operation -> where its answer holds accounts: a list under this key, or one account.
_ACCOUNT_LISTS = {"ListAccounts": "Accounts", "ListAccountsForParent": "Accounts"}
_ONE_ACCOUNT = {"DescribeAccount": "Account"}
# Each list operation the share calls, and the key of its items.
LIST_ITEMS = {
    "ListAccountsForParent": "Accounts",
    "ListOrganizationalUnitsForParent": "OrganizationalUnits",
    "ListAccounts": "Accounts",
}
_EMPTY_PAGE_TOKEN = "stand-in-empty-page:"


def empty_page(target: str, request: dict[str, Any]) -> dict[str, Any]:
    """An empty page of ``target`` whose NextToken leads back to where ``request`` was."""
    token = _EMPTY_PAGE_TOKEN + str(request.get("NextToken", ""))
    return {LIST_ITEMS[target]: [], "NextToken": token}


def moto_token(request: dict[str, Any]) -> dict[str, Any] | None:
    """``request`` with an empty page's token replaced by the one moto gave (or none), or
    None when it carries no such token."""
    token = str(request.get("NextToken", ""))
    if not token.startswith(_EMPTY_PAGE_TOKEN):
        return None
    original = token
    while original.startswith(_EMPTY_PAGE_TOKEN):  # empty pages one after another
        original = original.removeprefix(_EMPTY_PAGE_TOKEN)
    rest = {k: v for k, v in request.items() if k != "NextToken"}
    return {**rest, "NextToken": original} if original else rest


def _strip(account: Any) -> None:
    if isinstance(account, dict):
        for name in RETIRED_ACCOUNT_FIELDS:
            account.pop(name, None)


def resource_arn(management_account: str, request: dict[str, Any]) -> str:
    """The ARN IAM authorizes a request on: the root or OU it names as parent, else ``*``."""
    parent = str(request.get("ParentId", ""))
    organization = organizations_backends[management_account]["aws"].org
    if organization is None or not parent:
        return "*"
    kind = "root" if parent.startswith("r-") else "ou"
    return f"arn:aws:organizations::{management_account}:{kind}/{organization.id}/{parent}"


def answer_as_today(target: str, body: bytes) -> bytes:
    """moto's answer to ``target`` without the fields Organizations no longer sends."""
    if target not in _ACCOUNT_LISTS and target not in _ONE_ACCOUNT:
        return body
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict):
        return body
    if target in _ACCOUNT_LISTS:
        for account in answer.get(_ACCOUNT_LISTS[target], []):
            _strip(account)
    else:
        _strip(answer.get(_ONE_ACCOUNT[target]))
    return json.dumps(answer).encode()
