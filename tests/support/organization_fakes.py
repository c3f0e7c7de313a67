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
    must_revoke: bool
    was_last_holder: bool


@dataclass
class FakeLedger:
    """The ledger's rules in memory: holders per account, origin, configuration state."""

    holders: dict[str, set[str]] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)

    def mark_live(self, config_id: str) -> None:
        self.live.add(config_id)

    def mark_deleted(self, config_id: str) -> None:
        self.live.discard(config_id)

    def is_live(self, config_id: str) -> bool:
        return config_id in self.live

    def want(
        self, image_id: str, account: str, config_id: str, already_shared: bool, *, scheduled: bool
    ) -> Want:
        if scheduled and config_id not in self.live:
            return Want(skipped=True, must_grant=False)
        if account not in self.holders:
            self.origin[account] = "pre-existing" if already_shared else "granted"
        elif not already_shared:
            self.origin[account] = "granted"
        self.holders.setdefault(account, set()).add(config_id)
        return Want(False, self.origin[account] == "granted" and not already_shared)

    def release(self, image_id: str, account: str, config_id: str) -> Release:
        holders = self.holders.get(account)
        if not holders or config_id not in holders:
            return Release(False, False)
        holders.discard(config_id)
        if holders:
            return Release(False, False)
        del self.holders[account]
        return Release(self.origin.pop(account) == "granted", True)

    def holds(self, image_id: str, account: str, config_id: str) -> bool:
        return config_id in self.holders.get(account, set())

    def is_held(self, image_id: str, account: str) -> bool:
        return bool(self.holders.get(account))

    def pairs(self, image_id: str) -> dict[str, tuple[frozenset[str], str]]:
        return {a: (frozenset(h), self.origin[a]) for a, h in self.holders.items()}

    def holdings(self, image_id: str, config_id: str) -> set[str]:
        return {a for a, holders in self.holders.items() if config_id in holders}
