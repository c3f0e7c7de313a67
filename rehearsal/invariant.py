"""The invariant the rehearsal checks after every stack operation and scheduled run.

Over every image any stack ever declared:

- An image only per-pair resources declare is shared with exactly the accounts their live
  resources declare, plus those retained resources left, those shared outside any stack, and
  those of per-pair resources CloudFormation gave up deleting (it reports them).
- An image an organization share declares may also be shared with the accounts its live
  declarations want now (Organizations' active accounts of their scope), and it must be:
  every such account is listed, and every listed account is accounted for. The exemptions
  below are the only ones.
- Each pair a live ledger records as granted (and not being revoked) is listed.

The exemptions, each reported by a run or by CloudFormation, are these and no others:

- ``refused``: a wanted account is missing (and the ledger keeps the intent to grant it), and
  the configurations' last runs reported at least that many refused accounts;
- ``failed``: the configuration's last run failed, or it has not run (it fails closed and
  changes nothing more);
- ``awaiting the schedule``: an account no longer wanted is held by a configuration whose last
  run was a CloudFormation event (those never revoke), and a live rule that EventBridge may
  invoke the function with runs that configuration (its next run revokes);
- ``not synced``: the account's place or state in Organizations changed after the
  configuration's last run;
- ``withheld``: an account no longer wanted is still listed, and the last runs reported at
  least that many revocations withheld by the bound;
- ``pending release``: an account no longer wanted is still listed while a live ledger records
  it as being revoked, or held by a configuration that the stack no longer has and the ledger
  lists among the deleted ones: the next scheduled run or Delete releases it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATION_RESOURCE_TYPE as ORGANIZATION_TYPE,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    PAIR_RESOURCE_TYPE as PAIR_TYPE,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    OrganizationShareConfig,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.ledger import (
    GRANTED,
    PairRecord,
    ShareLedger,
)
from rehearsal.lambda_service import Delivery
from rehearsal.local_aws import ACCOUNT_ID, LocalAws
from rehearsal.organization import Organization
from rehearsal.stack_engine import StackEngine

_SUMMARY = re.compile(
    r"organization share (?P<trigger>\S+) (?P<config>\S+): (?P<in_scope>\d+) accounts in scope, "
    r"(?P<granted>\d+) granted, (?P<revoked>\d+) revoked, (?P<kept>\d+) kept, "
    r"(?P<withheld>\d+) revocations withheld, (?P<refused>\d+) refused, (?P<failed>\d+) failed"
)


@dataclass(frozen=True)
class RunReport:
    """What one run of a configuration reported in its summary line, and when it ended."""

    config_id: str
    trigger: str
    at: float
    withheld: int
    refused: int
    failed: int


def run_reports(deliveries: Iterable[Delivery], epoch: float) -> dict[str, RunReport]:
    """The last run of each configuration, from the function's summary lines (a delivery that
    stopped before writing one leaves the configuration's previous report)."""
    last: dict[str, RunReport] = {}
    for delivery in deliveries:
        at = epoch + delivery.at_seconds
        for match in _SUMMARY.finditer(delivery.invocation.log):
            config = match["config"]
            last[config] = RunReport(
                config,
                match["trigger"],
                at,
                int(match["withheld"]),
                int(match["refused"]),
                int(match["failed"]),
            )
    return last


@dataclass
class World:
    """What the invariant reads: the stacks, the organization, the shares made by hand."""

    aws: LocalAws
    engines: list[StackEngine]
    organization: Organization | None
    outside: set[tuple[str, str]] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    deliveries: list[Delivery] = field(default_factory=list)
    epoch: float = 0.0


def _live(engine: StackEngine, resource_type: str) -> list[Any]:
    return [
        r
        for r in engine.resources.values()
        if r.resource_type == resource_type and r.physical_id and r.live
    ]


def _wanted(organization: Organization, properties: dict[str, Any], owner: str) -> set[str]:
    """The accounts a declaration wants now: Organizations' view, past any injected fault."""
    config = OrganizationShareConfig.from_properties(properties)
    accounts = organization.active_accounts(config.parent_ids, config.include_nested)
    accounts |= set(config.account_ids)
    return accounts - set(config.exclude_account_ids) - {owner}


def _ledgers(aws: LocalAws, engine: StackEngine) -> list[ShareLedger]:
    if engine.account_id != ACCOUNT_ID:  # ledgers live in the image account
        return []
    return [
        ShareLedger(aws.client("dynamodb"), t.physical_id)
        for t in _live(engine, "AWS::DynamoDB::Table")
    ]


def violations(world: World) -> list[str]:
    """Every way WorkSpaces and the ledgers differ from what the stacks declare, beyond the
    exemptions; empty when the invariant holds."""
    static: set[tuple[str, str]] = set(world.outside)
    images = set(world.images)
    organization_images: set[str] = set()
    for engine in world.engines:
        organization_images |= engine.organization_images_seen
        static |= engine.declared_pairs() | engine.retained_pairs
        static |= {
            (str(r.properties.get(IMAGE_ID_PROPERTY)), str(r.properties.get(ACCOUNT_ID_PROPERTY)))
            for r in engine.abandoned
            if r.resource_type == PAIR_TYPE
        }
        images |= engine.images_seen
    reports = run_reports(world.deliveries, world.epoch)
    problems: list[str] = []
    for image in sorted(images):
        listed = world.aws.shared_accounts(image)
        fixed = {account for i, account in static if i == image}
        if image in organization_images:
            problems += _organization_image(world, image, listed, fixed, reports)
        elif listed != fixed:
            problems.append(
                f"{image} is shared with {sorted(listed)}, but the stacks declare {sorted(fixed)}"
            )
    return problems


@dataclass(frozen=True)
class _Record:
    """One account a live ledger records for an image."""

    record: PairRecord
    pending_release: bool


def _records(world: World, image: str) -> dict[str, _Record]:
    """Each account a live ledger records for ``image``. Pending release: being revoked, or
    held by a configuration the stack no longer has and the ledger lists among the deleted
    ones, where a later run finds it (one the ledger still takes for live, or does not list,
    no run would release)."""
    records: dict[str, _Record] = {}
    for engine in world.engines:
        live = {r.physical_id for r in _live(engine, ORGANIZATION_TYPE)}
        for ledger in _ledgers(world.aws, engine):
            deleted = {d.config_id for d in ledger.deleted_configurations()}
            for account, record in ledger.pairs(image).items():
                pending = record.revoking or bool((record.holders - live) & deleted)
                records[account] = _Record(record, pending)
    return records


@dataclass
class _Allowances:
    """What the live configurations' last runs reported, summed over them."""

    unsynced: set[str] = field(default_factory=set)  # "not synced"
    failed_scope: set[str] = field(default_factory=set)  # "failed": what they want or hold
    awaiting_schedule: set[str] = field(default_factory=set)  # held, last run not scheduled
    refused: int = 0
    withheld: int = 0


def _allowances(
    world: World,
    shares: list[tuple[StackEngine, Any]],
    reports: dict[str, RunReport],
    records: dict[str, _Record],
) -> tuple[set[str], _Allowances]:
    assert world.organization is not None, "an organization share needs the organization"
    wanted: set[str] = set()
    allowed = _Allowances()
    for engine, resource in shares:
        config = resource.physical_id
        accounts = _wanted(world.organization, resource.properties, engine.account_id)
        wanted |= accounts
        held = {a for a, r in records.items() if config in r.record.holders}
        report = reports.get(config)
        if report is None or report.failed:
            allowed.failed_scope |= accounts | held  # never run, or failed closed
            continue
        allowed.unsynced |= world.organization.changed_since(report.at)
        if report.trigger != "Scheduled" and engine.scheduled(config):
            allowed.awaiting_schedule |= held  # CloudFormation's events never revoke
        allowed.refused += report.refused
        allowed.withheld += report.withheld
    return wanted, allowed


def _organization_image(
    world: World,
    image: str,
    listed: frozenset[str],
    fixed: set[str],
    reports: dict[str, RunReport],
) -> list[str]:
    shares = [
        (engine, r)
        for engine in world.engines
        for r in _live(engine, ORGANIZATION_TYPE)
        if str(r.properties.get(IMAGE_ID_PROPERTY)) == image
    ]
    records = _records(world, image)
    wanted, allowed = _allowances(world, shares, reports, records)
    problems = []
    missing = wanted - listed - allowed.failed_scope - allowed.unsynced
    if len(missing) > allowed.refused:
        problems.append(
            f"{image} is not shared with {sorted(missing)}, which its organization shares "
            f"want (refused reported: {allowed.refused})"
        )
    extra = listed - fixed - wanted
    untracked = extra - set(records)
    if untracked:
        problems.append(
            f"{image} is shared with {sorted(untracked)}: no live declaration wants them and "
            "no ledger records them, so no later run will revoke them"
        )
    pending = {account for account, r in records.items() if r.pending_release}
    unexplained = (
        (extra & set(records))
        - allowed.unsynced
        - allowed.failed_scope
        - allowed.awaiting_schedule
        - pending
    )
    if len(unexplained) > allowed.withheld:
        problems.append(
            f"{image} is still shared with {sorted(unexplained)}, which no live declaration "
            f"wants (withheld reported: {allowed.withheld})"
        )
    granted = {
        account
        for account, r in records.items()
        if r.record.origin == GRANTED and not r.record.revoking
    }
    unlisted = granted - listed - allowed.failed_scope - allowed.unsynced
    if len(unlisted) > allowed.refused:
        problems.append(
            f"{image}: the ledger records {sorted(unlisted)} as granted, but WorkSpaces does "
            f"not list them (refused reported: {allowed.refused})"
        )
    return problems
