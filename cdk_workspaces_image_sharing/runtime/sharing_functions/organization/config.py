"""One organization share's configuration: its properties, their checks, and its physical ID."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..contract import (
    ACCOUNT_IDS_PROPERTY,
    EXCLUDE_ACCOUNT_IDS_PROPERTY,
    IMAGE_ID_PROPERTY,
    INCLUDE_NESTED_PROPERTY,
    MAX_REVOCATIONS_PROPERTY,
    ORGANIZATION_PHYSICAL_ID_PATTERN,
    PARENT_IDS_PROPERTY,
    ROLE_ARN_PROPERTY,
)
from ..image_account_pair import InvalidShareError, account_id_problem, image_id_problem

DEFAULT_MAX_REVOCATIONS_PER_RUN = 10
# The custom resource's ServiceTimeout: CloudFormation waits no longer for an answer.
SERVICE_TIMEOUT_SECONDS = 20 * 60
# A configuration whose Delete began longer ago than this has no event of its own to come (the
# Delete ended, or CloudFormation stopped waiting for it): other runs release what it holds.
ABANDONED_AFTER_SECONDS = SERVICE_TIMEOUT_SECONDS

# The Organizations API reference's patterns for an OU ID and a root ID (used with fullmatch).
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")
PARENT_ID_EXPECTED = "an OU ID (ou-xxxx-xxxxxxxx) or the root ID (r-xxxx), lowercase"
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
_PHYSICAL_ID = re.compile(ORGANIZATION_PHYSICAL_ID_PATTERN)


def parent_id_problem(value: object, field: str = PARENT_IDS_PROPERTY) -> str | None:
    """Say what is wrong with an OU or root ID, or return None when it is well formed.

    The message starts with ``field`` (the property name, or at synth the keyword the user
    passed), then the value and what is expected, with a hint for the usual mix-ups (an
    account or organization ID, capital letters).
    """
    if isinstance(value, str) and (OU_ID.fullmatch(value) or ROOT_ID.fullmatch(value)):
        return None
    hint = ""
    if isinstance(value, str):
        if value.isdigit() and len(value) == 12:
            hint = " (an account ID: use AccountIds)"
        elif _ORGANIZATION_ID.fullmatch(value):
            hint = " (an organization ID: use its root ID)"
        elif value != value.lower() and parent_id_problem(value.lower(), field) is None:
            hint = " (IDs are lowercase)"
    return f"{field} {value!r} is not an OU or root ID: expected {PARENT_ID_EXPECTED}{hint}"


def role_arn_problem(value: object, field: str = ROLE_ARN_PROPERTY) -> str | None:
    """Say what is wrong with an IAM role ARN, or return None when it is well formed."""
    if isinstance(value, str) and _ROLE_ARN.fullmatch(value):
        return None
    return f"{field} {value!r} is not an IAM role ARN: expected arn:aws:iam::<account>:role/<name>"


def max_revocations_problem(value: object, field: str = MAX_REVOCATIONS_PROPERTY) -> str | None:
    """Say what is wrong with a revocation bound, or return None when it is a whole number >= 0."""
    text = str(value)
    if text.isdigit():
        return None
    return f"{field} {value!r} is not a whole number: expected 0 or more"


def _strings(value: object) -> list[str]:
    """A list property as CloudFormation sends it, or joined with commas; blanks dropped."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass(frozen=True)
class OrganizationShareConfig:
    """What one organization share resource declares."""

    image_id: str
    parent_ids: tuple[str, ...]
    include_nested: bool = True
    account_ids: tuple[str, ...] = ()
    exclude_account_ids: tuple[str, ...] = ()
    max_revocations_per_run: int = DEFAULT_MAX_REVOCATIONS_PER_RUN
    organizations_role_arn: str | None = None

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, object], owner_account: str | None = None
    ) -> OrganizationShareConfig:
        """Read and check the properties; raise InvalidShareError naming every problem."""
        problems: list[str] = []
        image_id = properties.get(IMAGE_ID_PROPERTY)
        problems.append(image_id_problem(image_id) or "")
        parent_ids = _strings(properties.get(PARENT_IDS_PROPERTY))
        if not parent_ids:
            problems.append(f"{PARENT_IDS_PROPERTY} is empty: expected at least one OU or root ID")
        problems += [parent_id_problem(p) or "" for p in parent_ids]
        accounts = _strings(properties.get(ACCOUNT_IDS_PROPERTY))
        problems += [
            account_id_problem(a, owner_account, ACCOUNT_IDS_PROPERTY) or "" for a in accounts
        ]
        excluded = _strings(properties.get(EXCLUDE_ACCOUNT_IDS_PROPERTY))
        problems += [
            account_id_problem(a, None, EXCLUDE_ACCOUNT_IDS_PROPERTY) or "" for a in excluded
        ]
        nested = str(properties.get(INCLUDE_NESTED_PROPERTY, "true")).lower()
        if nested not in ("true", "false"):
            problems.append(
                f"{INCLUDE_NESTED_PROPERTY} {nested!r} is not a boolean: expected true or false"
            )
        bound = properties.get(MAX_REVOCATIONS_PROPERTY, DEFAULT_MAX_REVOCATIONS_PER_RUN)
        problems.append(max_revocations_problem(bound) or "")
        role = properties.get(ROLE_ARN_PROPERTY) or None
        if role is not None:
            problems.append(role_arn_problem(role) or "")
        problems = [p for p in problems if p]
        if problems:
            raise InvalidShareError("; ".join(problems))
        return cls(
            image_id=str(image_id),
            parent_ids=tuple(sorted(set(parent_ids))),
            include_nested=nested == "true",
            account_ids=tuple(sorted(set(accounts))),
            exclude_account_ids=tuple(sorted(set(excluded))),
            max_revocations_per_run=int(str(bound)),
            organizations_role_arn=str(role) if role else None,
        )

    def configuration_id(self, stack_id: str, logical_id: str) -> str:
        """The physical ID of this configuration of this resource:
        ``<ImageId>/organization/<16 hex digits>``, a hash of the stack, the logical ID and
        what decides the wanted accounts (image, parents, nesting, extra and excluded
        accounts). A changed scope, a renamed resource or another stack gets another ID, so
        CloudFormation's cleanup Delete releases exactly the old one's shares; a changed
        revocation bound or reader role keeps the ID (the same accounts are wanted)."""
        canonical = json.dumps([stack_id, logical_id, self._canonical()], sort_keys=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        return f"{self.image_id}/organization/{digest}"

    def _canonical(self) -> dict[str, object]:
        return {
            "image": self.image_id,
            "parents": list(self.parent_ids),
            "nested": self.include_nested,
            "accounts": list(self.account_ids),
            "excluded": list(self.exclude_account_ids),
        }


def image_of_configuration(physical_id: object) -> str | None:
    """The image an organization share's physical ID names, or None when it is not one (a
    failed Create's ID)."""
    if not isinstance(physical_id, str):
        return None
    match = _PHYSICAL_ID.fullmatch(physical_id)
    return match.group(1) if match else None


def wanted_accounts(
    config: OrganizationShareConfig, resolved: Sequence[str], owner_account: str
) -> set[str]:
    """The accounts to share with: the OUs' active accounts and the extra accounts, less the
    excluded ones and the image's own account."""
    return (
        (set(resolved) | set(config.account_ids))
        - set(config.exclude_account_ids)
        - {owner_account}
    )
