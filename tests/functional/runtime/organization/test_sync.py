"""organization_sync's rules on fakes: fail closed, grant only, the revocation bound, a grant
released in flight, and the pacing of 1,000 accounts on a simulated clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import pytest

from tests.support.organization_fakes import FakeLedger, FakeWorkSpaces, SimulatedClock
from tests.support.values import sample_accounts

IMAGE = "wsi-0123456789"
OWNER = "123456789012"
CONFIG = f"{IMAGE}/organization/0123456789abcdef"
FUNCTION_SECONDS = 900.0  # Lambda's limit, the organization function's Timeout


@pytest.fixture
def sync(handler_modules: dict[str, ModuleType]) -> ModuleType:
    return handler_modules["organization.sync"]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


def resolving_to(
    handler_modules: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, members: list[str]
) -> None:
    """Organizations resolves the OUs to ``members`` (all active)."""
    accounts = handler_modules["organization.accounts"]

    def resolve(client: Any, parent_ids: Any, include_nested: bool) -> Any:
        return accounts.ResolvedAccounts(frozenset(members), 0, len(parent_ids))

    monkeypatch.setattr(accounts, "resolve_accounts", resolve)


def failing_read(handler_modules: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = handler_modules["organization.accounts"]

    def resolve(client: Any, parent_ids: Any, include_nested: bool) -> Any:
        raise accounts.OrganizationsReadError("ListAccountsForParent", "ou-ab12-11111111", "Boom")

    monkeypatch.setattr(accounts, "resolve_accounts", resolve)


def live_ledger(granted: Sequence[str] = ()) -> FakeLedger:
    """A ledger where CONFIG is live and holds ``granted``, each shared by this tool."""
    ledger = FakeLedger()
    ledger.mark_live(CONFIG)
    for account in granted:
        ledger.want(IMAGE, account, CONFIG, False, scheduled=False)
    return ledger


def services(
    handler_modules: dict[str, ModuleType],
    clock: SimulatedClock,
    workspaces: FakeWorkSpaces,
    ledger: FakeLedger,
    held_elsewhere: Callable[[str], str | None] = lambda _: None,
) -> Any:
    pacer = handler_modules["organization.pacing"].Pacer.for_remaining_time(
        FUNCTION_SECONDS, margin(handler_modules), clock=clock, sleep=clock.sleep
    )
    return handler_modules["organization.sync"].Services(
        organizations=lambda: None,
        workspaces=workspaces,
        ledger=ledger,
        pacer=pacer,
        held_elsewhere=held_elsewhere,
    )


def margin(handler_modules: dict[str, ModuleType]) -> float:
    """What the function leaves unused at the end of a run (about 113 s)."""
    return float(handler_modules["organization.entry"].TIME_MARGIN_SECONDS)


def config(handler_modules: dict[str, ModuleType], **changes: Any) -> Any:
    share = handler_modules["organization.config"]
    return share.OrganizationShareConfig(IMAGE, ("ou-ab12-11111111",), **changes)


def test_a_create_grants_every_account_but_the_owner_and_revokes_nothing(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = sample_accounts(5)
    resolving_to(handler_modules, monkeypatch, [*members, OWNER])
    workspaces = FakeWorkSpaces(clock, shared={"999999999999"})
    ledger = live_ledger()
    summary = sync.share_with_organization(
        config(handler_modules),
        CONFIG,
        OWNER,
        services(handler_modules, clock, workspaces, ledger),
        trigger="Create",
    )
    assert workspaces.shared == {*members, "999999999999"}
    assert (summary.in_scope, summary.granted, summary.revoked, summary.failed) == (5, 5, 0, 0)


@pytest.mark.parametrize("trigger", ["Create", "Scheduled"])
def test_an_organizations_failure_changes_nothing(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
    trigger: str,
) -> None:
    held = sample_accounts(3)
    ledger = live_ledger(held)
    workspaces = FakeWorkSpaces(clock, shared=set(held))
    failing_read(handler_modules, monkeypatch)
    summary = sync.share_with_organization(
        config(handler_modules),
        CONFIG,
        OWNER,
        services(handler_modules, clock, workspaces, ledger),
        trigger=trigger,
    )
    assert workspaces.calls == [] and workspaces.shared == set(held)
    assert summary.failed == 1 and "Organizations could not be read" in summary.log_line()


def test_zero_active_accounts_changes_nothing(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = live_ledger(["111122223333"])
    workspaces = FakeWorkSpaces(clock, shared={"111122223333"})
    resolving_to(handler_modules, monkeypatch, [])
    summary = sync.share_with_organization(
        config(handler_modules),
        CONFIG,
        OWNER,
        services(handler_modules, clock, workspaces, ledger),
        trigger="Scheduled",
    )
    assert workspaces.shared == {"111122223333"} and workspaces.calls == []
    assert "no active account" in summary.log_line()


@pytest.mark.parametrize(("left", "revoked"), [(2, 2), (3, 0)])
def test_a_scheduled_run_revokes_what_left_within_the_bound(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
    left: int,
    revoked: int,
) -> None:
    members = sample_accounts(6)
    ledger = live_ledger(members)
    workspaces = FakeWorkSpaces(clock, shared=set(members))
    resolving_to(handler_modules, monkeypatch, members[left:])
    summary = sync.share_with_organization(
        config(handler_modules, max_revocations_per_run=2),
        CONFIG,
        OWNER,
        services(handler_modules, clock, workspaces, ledger),
        trigger="Scheduled",
    )
    assert summary.revoked == revoked
    assert workspaces.shared == set(members[left:] if revoked else members)
    if not revoked:
        assert summary.withheld == left and "more than MaxRevocationsPerRun (2)" in (
            summary.log_line()
        )


def test_a_pre_existing_share_or_one_the_stack_declares_is_never_revoked(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_hand, declared, ours = sample_accounts(3)
    workspaces = FakeWorkSpaces(clock, shared={by_hand, declared})
    ledger = live_ledger()
    resolving_to(handler_modules, monkeypatch, [by_hand, declared, ours])
    declares = {f"{IMAGE}/{declared}": "PerPairShare"}
    run = services(handler_modules, clock, workspaces, ledger, declares.get)
    sync.share_with_organization(config(handler_modules), CONFIG, OWNER, run, trigger="Create")
    assert workspaces.shared == {by_hand, declared, ours}
    summary = sync.stop_sharing_with_organization(IMAGE, CONFIG, run)
    assert workspaces.shared == {by_hand, declared}
    assert (summary.revoked, summary.kept) == (1, 2)


def test_a_grant_released_while_in_flight_is_revoked_again(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The configuration's Delete releases the pair between this run's want and its grant."""
    (account,) = sample_accounts(1)
    ledger = live_ledger()
    workspaces = FakeWorkSpaces(clock)
    resolving_to(handler_modules, monkeypatch, [account])
    run = services(handler_modules, clock, workspaces, ledger)
    wait = run.pacer.wait

    def delete_meanwhile() -> None:
        if ledger.holds(IMAGE, account, CONFIG):
            ledger.mark_deleted(CONFIG)
            released = ledger.release(IMAGE, account, CONFIG)
            ledger.finish_revoke(IMAGE, account, released.version)  # it found nothing shared
        wait()

    run.pacer.wait = delete_meanwhile
    summary = sync.share_with_organization(
        config(handler_modules), CONFIG, OWNER, run, trigger="Scheduled"
    )
    assert workspaces.calls == [(account, True), (account, False)]
    assert workspaces.shared == set() and summary.granted == 0


@pytest.mark.parametrize("trigger", ["Create", "Delete"])
def test_a_thousand_accounts_finish_within_the_function_timeout(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
    trigger: str,
) -> None:
    """Paced at two calls a second (plus 50 ms a call), 1,000 changes take about 550 s of the
    787 s the function allows itself: README, "Sharing with an organization"."""
    members = sample_accounts(1000)
    resolving_to(handler_modules, monkeypatch, members)
    workspaces, ledger = FakeWorkSpaces(clock), live_ledger()
    run = services(handler_modules, clock, workspaces, ledger)
    sync.share_with_organization(config(handler_modules), CONFIG, OWNER, run, trigger="Create")
    if trigger == "Delete":
        clock.now = 0.0
        run = services(handler_modules, clock, workspaces, ledger)
        sync.stop_sharing_with_organization(IMAGE, CONFIG, run)
        assert workspaces.shared == set()
    else:
        assert workspaces.shared == set(members)
    assert 999 * 0.5 <= clock.now <= FUNCTION_SECONDS - margin(handler_modules)
    assert handler_modules["organization.pacing"].CALL_INTERVAL_SECONDS * 1000 == 500


def test_more_than_the_function_can_pace_stops_before_the_timeout(
    handler_modules: dict[str, ModuleType],
    sync: ModuleType,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(handler_modules, monkeypatch, sample_accounts(2000))
    workspaces, ledger = FakeWorkSpaces(clock), live_ledger()
    run = services(handler_modules, clock, workspaces, ledger)
    summary = sync.share_with_organization(
        config(handler_modules), CONFIG, OWNER, run, trigger="Create"
    )
    assert summary.failed == 1
    assert re.search(r"run stopped: OutOfTime: stopped after \d+ calls", summary.log_line())
    assert clock.now <= FUNCTION_SECONDS - margin(handler_modules)
    assert len(ledger.holdings(IMAGE, CONFIG)) > len(workspaces.shared)  # intent first
