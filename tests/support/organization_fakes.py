"""Fakes for organization_sync's unit tests: a simulated clock, a WorkSpaces client as strict as
the service about revokes, and an in-memory ledger with the real one's rules (no concurrency).

The real ledger and WorkSpaces are exercised against the local endpoint elsewhere; these make
1,000-account runs cost milliseconds, so the pacing arithmetic can be shown on a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class SimulatedClock:
    """Time that moves only when slept, or by ``call_seconds`` on each WorkSpaces call."""

    now: float = 0.0
    call_seconds: float = 0.05

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeWorkSpaces:
    """UpdateWorkspaceImagePermission and DescribeWorkspaceImagePermissions of one image; a
    revoke of what is not shared is refused, as the service documents."""

    clock: SimulatedClock
    shared: set[str] = field(default_factory=set)
    calls: list[tuple[str, bool]] = field(default_factory=list)

    def update_workspace_image_permission(
        self, ImageId: str, AllowCopyImage: bool, SharedAccountId: str
    ) -> dict[str, Any]:
        self.clock.now += self.clock.call_seconds
        self.calls.append((SharedAccountId, AllowCopyImage))
        if AllowCopyImage:
            self.shared.add(SharedAccountId)
        elif SharedAccountId in self.shared:
            self.shared.discard(SharedAccountId)
        else:
            error = {"Error": {"Code": "InvalidParameterValuesException", "Message": "not shared"}}
            raise ClientError(error, "UpdateWorkspaceImagePermission")  # type: ignore[arg-type]
        return {}

    def describe_workspace_image_permissions(self, **request: Any) -> dict[str, Any]:
        self.clock.now += self.clock.call_seconds
        accounts = sorted(self.shared)
        start = int(request.get("NextToken") or 0)
        page = accounts[start : start + 25]
        answer: dict[str, Any] = {"ImagePermissions": [{"SharedAccountId": a} for a in page]}
        if start + 25 < len(accounts):
            answer["NextToken"] = str(start + 25)
        return answer


@dataclass(frozen=True)
class Want:
    skipped: bool
    must_grant: bool


@dataclass(frozen=True)
class Release:
    outcome: str
    must_revoke: bool
    version: int = 0


@dataclass(frozen=True)
class Deleted:
    config_id: str
    deleted_at: float


@dataclass(frozen=True)
class Record:
    holders: frozenset[str]
    origin: str
    revoking: bool = False


@dataclass
class FakeLedger:
    """The ledger's rules in memory (no concurrency): holders per account, origin, the
    pairs being revoked, configuration state and the deleted configurations."""

    holders: dict[str, set[str]] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    revoking: set[str] = field(default_factory=set)
    live: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    def mark_live(self, config_id: str, request_id: str | None = None) -> None:
        self.live.add(config_id)
        self.deleted.discard(config_id)

    def mark_deleted(self, config_id: str, request_id: str | None = None) -> None:
        self.live.discard(config_id)
        self.deleted.add(config_id)

    def is_live(self, config_id: str) -> bool:
        return config_id in self.live

    def deleted_configurations(self) -> list[Deleted]:
        # Dated long ago: every run may release what they hold.
        return [Deleted(config_id, 0.0) for config_id in sorted(self.deleted)]

    def drop_deleted(self, entry: Deleted) -> None:
        self.deleted.discard(entry.config_id)

    def want(
        self,
        image_id: str,
        account: str,
        config_id: str,
        already_shared: bool,
        *,
        scheduled: bool,
        listed_at: float | None = None,
    ) -> Want:
        if config_id not in self.live:
            return Want(skipped=True, must_grant=False)
        reclaimed = account in self.revoking
        self.revoking.discard(account)
        if account not in self.holders:
            self.origin[account] = "pre-existing" if already_shared else "granted"
        elif not already_shared:
            self.origin[account] = "granted"
        self.holders.setdefault(account, set()).add(config_id)
        granted = self.origin[account] == "granted"
        return Want(False, granted and (reclaimed or not already_shared))

    def release(
        self, image_id: str, account: str, config_id: str, *, require_deleted: bool = False
    ) -> Release:
        holders = self.holders.get(account)
        if not holders or config_id not in holders:
            return Release("missing", False)
        if holders == {config_id} and account in self.revoking:
            return Release("revoking", True)
        if require_deleted and config_id not in self.deleted:
            return Release("skipped", False)
        if holders != {config_id}:
            holders.discard(config_id)
            return Release("left", False)
        if self.origin[account] == "granted":
            self.revoking.add(account)
            return Release("revoking", True)
        del self.holders[account]
        del self.origin[account]
        return Release("deleted", False)

    def finish_revoke(self, image_id: str, account: str, version: int) -> bool:
        if account not in self.revoking:
            return not self.holders.get(account)
        self.revoking.discard(account)
        del self.holders[account]
        del self.origin[account]
        return True

    def forget(self, image_id: str, account: str, version: int) -> None:
        self.finish_revoke(image_id, account, version)

    def holds(self, image_id: str, account: str, config_id: str) -> bool:
        return config_id in self.holders.get(account, set())

    def is_held(self, image_id: str, account: str) -> bool:
        return bool(self.holders.get(account)) and account not in self.revoking

    def pairs(self, image_id: str) -> dict[str, Record]:
        return {
            a: Record(frozenset(h), self.origin[a], a in self.revoking)
            for a, h in self.holders.items()
        }

    def holdings(self, image_id: str, config_id: str) -> set[str]:
        return {a for a, holders in self.holders.items() if config_id in holders}
