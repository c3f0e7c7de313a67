"""The active accounts under AWS Organizations roots and OUs, read fail-closed."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..aws_plumbing import ClientSettings, OrganizationsClient, error_code
from ..contract import LIST_ACCOUNTS_FOR_PARENT, LIST_OUS_FOR_PARENT
from .config import parent_id_problem

logger = logging.getLogger(__name__)

ROLE_SESSION_NAME = "workspace-image-org-share"
ACTIVE = "ACTIVE"
PAGE_SIZE = 20  # the most ListAccountsForParent and ListOrganizationalUnitsForParent allow
# Organizations and STS: standard mode backs off on TooManyRequestsException.
CLIENT_SETTINGS = ClientSettings(max_attempts=5, connect_timeout_seconds=2, read_timeout_seconds=5)

ASSUME_ROLE = "AssumeRole"
# STS answers AccessDenied alike for a role that does not exist and for a trust policy that
# does not allow the caller.
ASSUME_ROLE_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})
ASSUME_ROLE_DENIED_HINT = (
    "no such role yet (deploy WorkspaceImageOrganizationReaderRole first), or its trust "
    "policy refuses this function's role"
)
# The Organizations service model of a current botocore, with its licence (scripts/
# vendor-organizations-model): the runtime SDK may predate fields the service now sends.
SHIPPED_MODELS_DIR = Path(__file__).parent / "botocore_models"


class OrganizationsReadError(RuntimeError):
    """A read of the organization failed: the caller must revoke nothing.

    ``str()`` is short and safe for a CloudFormation Reason: the call, the parent (or role) it
    was for, the AWS error code and, where it helps, what to do; never the service's message.
    ``operation``, ``target`` and ``code`` hold the same parts.
    """

    def __init__(self, operation: str, target: str, code: str, hint: str = "") -> None:
        super().__init__(f"{operation} {target} failed: {code}" + (f": {hint}" if hint else ""))
        self.operation = operation
        self.target = target
        self.code = code


@dataclass(frozen=True)
class ResolvedAccounts:
    """What the parents hold: the active accounts, and counts for the summary log."""

    accounts: frozenset[str]
    """The active accounts' IDs, each once (an account is in exactly one parent)."""
    inactive_count: int
    """Accounts found but skipped because they are not active (suspended, closing, …)."""
    parents_read: int
    """Roots and OUs whose accounts were listed (the given ones and, if nested, those below)."""

    @property
    def is_empty(self) -> bool:
        """True when no active account was found: not an error here, the caller decides."""
        return not self.accounts


def session_with_shipped_models() -> boto3.session.Session:
    """A boto3 session whose botocore looks for service models in ``SHIPPED_MODELS_DIR`` first
    (botocore's ``data_path``, as ``AWS_DATA_PATH`` sets it): its Organizations clients parse
    what the shipped model describes, whatever SDK the runtime has. Other services, and the
    Organizations files not shipped (paginators, endpoint rules), come from the SDK."""
    core = botocore.session.Session()
    paths = [str(SHIPPED_MODELS_DIR), core.get_config_variable("data_path")]
    core.set_config_variable("data_path", os.pathsep.join(p for p in paths if p))
    return boto3.session.Session(botocore_session=core)


def _code(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return error_code(error, "Unknown")
    return type(error).__name__  # no answer (timeout, refused connection) or bad paging


def organizations_client(
    session: Any, role_arn: str | None, config: Config | None = None
) -> OrganizationsClient:
    """An Organizations client of ``session`` (a ``boto3.Session``, or anything whose
    ``client(service_name, **kwargs)`` takes botocore's client arguments).

    Without ``role_arn``, the client uses the session's own credentials (the function's role).
    With it, the role is assumed once through STS (RoleSessionName ``ROLE_SESSION_NAME``,
    DurationSeconds left at its default hour, longer than any invocation) and the client uses
    those temporary credentials: make a new client per invocation rather than keeping it in the
    container. ``config`` defaults to ``CLIENT_SETTINGS``, used for STS too. No Region is
    forced (see docs/design.md).

    Raises ``OrganizationsReadError`` when the role cannot be assumed.
    """
    config = config or CLIENT_SETTINGS.config()
    if role_arn is None:
        return cast(OrganizationsClient, session.client("organizations", config=config))
    try:
        credentials = session.client("sts", config=config).assume_role(
            RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME
        )["Credentials"]
    except (ClientError, BotoCoreError) as error:
        code = _code(error)
        hint = ASSUME_ROLE_DENIED_HINT if code in ASSUME_ROLE_DENIED else ""
        raise OrganizationsReadError(ASSUME_ROLE, role_arn, code, hint) from error
    return cast(
        OrganizationsClient,
        session.client(
            "organizations",
            config=config,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        ),
    )


# Operation -> (botocore paginator name, the key of the listed items).
_LISTINGS = {
    LIST_ACCOUNTS_FOR_PARENT: ("list_accounts_for_parent", "Accounts"),
    LIST_OUS_FOR_PARENT: ("list_organizational_units_for_parent", "OrganizationalUnits"),
}


def _items(client: OrganizationsClient, operation: str, parent_id: str) -> Iterator[dict[str, Any]]:
    # botocore's paginator stops only when NextToken is absent, never on an empty page.
    name, key = _LISTINGS[operation]
    pages = client.get_paginator(name).paginate(  # type: ignore[call-overload]
        ParentId=parent_id, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    for page in pages:
        yield from page.get(key, [])


def _is_active(account: dict[str, Any], parent_id: str) -> bool:
    state = str(account.get("State") or account.get("Status") or "")
    if not state:
        raise OrganizationsReadError(
            LIST_ACCOUNTS_FOR_PARENT, parent_id, "AccountWithoutStateOrStatus"
        )
    return state == ACTIVE


def resolve_accounts(
    client: OrganizationsClient, parent_ids: Sequence[str], include_nested: bool
) -> ResolvedAccounts:
    """The active accounts directly in each of ``parent_ids`` (OU or root IDs) and, when
    ``include_nested``, in every OU below them.

    Parents are read breadth-first, each once however often it is given or reached; every list
    call is read to its last page. Raises ``ValueError`` naming every malformed parent ID (no
    call is made), and ``OrganizationsReadError`` when any call fails: nothing partial is
    returned. No parent at all resolves to no account.
    """
    problems = [problem for value in parent_ids if (problem := parent_id_problem(value))]
    if problems:
        raise ValueError("; ".join(problems))
    queue = deque(dict.fromkeys(parent_ids))
    seen = set(queue)
    active: set[str] = set()
    inactive: set[str] = set()
    operation = LIST_ACCOUNTS_FOR_PARENT
    parent_id = ""
    try:
        while queue:
            parent_id = queue.popleft()
            operation = LIST_ACCOUNTS_FOR_PARENT
            for account in _items(client, operation, parent_id):
                listed = active if _is_active(account, parent_id) else inactive
                listed.add(str(account["Id"]))
            if not include_nested:
                continue
            operation = LIST_OUS_FOR_PARENT
            for unit in _items(client, operation, parent_id):
                child = str(unit["Id"])
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
    except (ClientError, BotoCoreError) as error:
        raise OrganizationsReadError(operation, parent_id, _code(error)) from error
    logger.debug(
        "%d parents read: %d active accounts, %d inactive", len(seen), len(active), len(inactive)
    )
    return ResolvedAccounts(frozenset(active), len(inactive), len(seen))
