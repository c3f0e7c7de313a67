"""The comparison: the pairs the stacks declare against what WorkSpaces lists, one row each.

A pure function of its inputs (no AWS call), so every state can be tested on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cdk_workspaces_image_sharing.drift.shares import Listed
from cdk_workspaces_image_sharing.drift.stacks import (
    DELETED_ORGANIZATION_SHARE,
    ORGANIZATION_SHARE,
    STACK_RESOURCE,
    Declared,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    ImageAccountPair,
)


class State(StrEnum):
    """What one row says about one pair (or one physical ID)."""

    OK = "ok"
    """Declared by exactly one resource, and shared."""
    MISSING = "missing"
    """Declared, and not shared (``repair`` grants it)."""
    UNMANAGED = "unmanaged"
    """Shared, and declared by none of the stacks read."""
    IGNORED = "ignored"
    """Shared, declared by none of the stacks read, with an account given to --ignore-account."""
    DUPLICATE = "duplicate"
    """Shared, and declared by more than one resource: deleting one revokes the other's share."""
    NOT_A_SHARE = "not-a-share"
    """A resource whose physical ID names no pair (a failed Create's ID): it shares nothing."""
    ABANDONED = "abandoned"
    """Recorded only by organization share configurations CloudFormation deleted (or gave up
    deleting): the stack's next scheduled run or Delete releases it (revokes what it granted)."""


GREEN = frozenset({State.OK, State.IGNORED})
STATE_ORDER = tuple(State)


@dataclass(frozen=True, order=True)
class StackResourceRef:
    """A stack resource that declares a row's pair: an entry of the row's ``managed_by``."""

    stack: str
    logical_id: str
    kind: str = STACK_RESOURCE

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "stack": self.stack, "logical_id": self.logical_id}


@dataclass(frozen=True)
class Row:
    """One account of one image, or one resource whose physical ID is not a share (then
    ``image_id`` and ``account_id`` are None)."""

    image_id: str | None
    account_id: str | None
    physical_id: str
    state: State
    managed_by: tuple[StackResourceRef, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "image_id": self.image_id,
            "account_id": self.account_id,
            "physical_id": self.physical_id,
            "state": str(self.state),
            "managed_by": [ref.to_json() for ref in self.managed_by],
        }


@dataclass(frozen=True)
class Report:
    """The rows of the stacks read, and what was read."""

    rows: tuple[Row, ...]
    stacks: tuple[str, ...]
    all_stacks: bool = False
    region: str = ""
    ignored_accounts: tuple[str, ...] = ()
    images_not_found: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """How many rows each state has (every state named, in ``State`` order)."""
        found = Counter(row.state for row in self.rows)
        return {str(state): found[state] for state in STATE_ORDER}

    @property
    def in_sync(self) -> bool:
        """Whether every row is ``ok`` (or ``ignored``)."""
        return all(row.state in GREEN for row in self.rows)

    def rows_in(self, *states: State) -> list[Row]:
        return [row for row in self.rows if row.state in states]


def build_report(
    declared: Declared,
    listed: Listed,
    ignored_accounts: Iterable[str] = (),
    *,
    all_stacks: bool = False,
    region: str = "",
) -> Report:
    """Compare the declared pairs with the listed ones.

    Declared pairs: ``ok`` when shared, ``missing`` when not (also when the image does not
    exist), ``duplicate`` when shared and declared by more than one resource, except by
    organization shares of one stack alone (one ledger holds their common pairs together).
    Pairs only deleted organization share configurations hold: ``abandoned``. Listed pairs no
    resource declares: ``unmanaged``, or ``ignored`` for an account in ``ignored_accounts``. A
    resource whose physical ID names no pair: ``not-a-share``. Rows are sorted by image and
    account, the ``not-a-share`` ones last.
    """
    ignored = tuple(sorted(set(ignored_accounts)))
    declarers: dict[tuple[str, str], list[StackResourceRef]] = {}
    not_shares: list[Row] = []
    for resource in declared.resources:
        ref = StackResourceRef(resource.stack, resource.logical_id, resource.kind)
        share = resource.share
        if share is None:
            not_shares.append(Row(None, None, resource.physical_id, State.NOT_A_SHARE, (ref,)))
            continue
        refs = declarers.setdefault((share.image_id, share.account_id), [])
        if ref not in refs:
            refs.append(ref)
    rows: list[Row] = []
    for (image_id, account_id), found in declarers.items():
        shared = account_id in listed.shared.get(image_id, frozenset())
        live = [ref for ref in found if ref.kind != DELETED_ORGANIZATION_SHARE]
        refs = live or found
        if not live:
            state = State.ABANDONED
        elif not shared:
            state = State.MISSING
        elif len(refs) > 1 and not _one_ledger(refs):
            state = State.DUPLICATE
        else:
            state = State.OK
        physical_id = ImageAccountPair(image_id, account_id).physical_id
        rows.append(Row(image_id, account_id, physical_id, state, tuple(sorted(refs))))
    for image_id, accounts in listed.shared.items():
        for account_id in accounts:
            if (image_id, account_id) not in declarers:
                state = State.IGNORED if account_id in ignored else State.UNMANAGED
                physical_id = ImageAccountPair(image_id, account_id).physical_id
                rows.append(Row(image_id, account_id, physical_id, state))
    rows.sort(key=lambda row: (row.image_id or "", row.account_id or ""))
    not_shares.sort(key=lambda row: (row.managed_by, row.physical_id))
    return _report(rows, not_shares, declared, listed, ignored, all_stacks, region)


def _one_ledger(refs: list[StackResourceRef]) -> bool:
    """Whether every holder is an organization share of one stack: their ledger holds the
    pair for all of them, and deleting one leaves it to the others."""
    return all(ref.kind == ORGANIZATION_SHARE for ref in refs) and len({r.stack for r in refs}) == 1


def _report(
    rows: list[Row],
    not_shares: list[Row],
    declared: Declared,
    listed: Listed,
    ignored: tuple[str, ...],
    all_stacks: bool,
    region: str,
) -> Report:
    return Report(
        rows=(*rows, *not_shares),
        stacks=declared.stacks,
        all_stacks=all_stacks,
        region=region,
        ignored_accounts=ignored,
        images_not_found=tuple(sorted(listed.not_found)),
    )
