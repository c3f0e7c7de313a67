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

Exemptions (``EXEMPTIONS``), each reported by the run or by CloudFormation:

- ``refused``: a wanted account is missing, and the configuration's last run reported at least
  that many refused accounts;
- ``failed``: the configuration's last run failed (it fails closed and changes nothing more);
- ``not synced``: the account's place or state in Organizations changed after the
  configuration's last run;
- ``withheld``: an account no longer wanted is still listed, and the last runs reported at
  least that many revocations withheld by the bound;
- ``pending release``: an account no longer wanted, or wanted only by configurations that are
  gone, is still listed while a live ledger still records it: the next scheduled run or Delete
  releases it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdk_workspaces_image_sharing.handler.image_account_pair import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
)
from cdk_workspaces_image_sharing.handler.image_account_pair import (
    RESOURCE_TYPE as PAIR_TYPE,
)
from cdk_workspaces_image_sharing.handler.organization_share import (
    ACCOUNT_IDS_PROPERTY,
    EXCLUDE_ACCOUNT_IDS_PROPERTY,
    INCLUDE_NESTED_PROPERTY,
    PARENT_IDS_PROPERTY,
)
from cdk_workspaces_image_sharing.handler.organization_share import (
    RESOURCE_TYPE as ORGANIZATION_TYPE,
)
from cdk_workspaces_image_sharing.handler.share_ledger import GRANTED, PairRecord, ShareLedger
from rehearsal.lambda_service import Delivery
from rehearsal.local_aws import ACCOUNT_ID, LocalAws, shared_accounts
from rehearsal.organization import Organization
from rehearsal.stack_engine import StackEngine

EXEMPTIONS = ("refused", "failed", "not synced", "withheld", "pending release")
_SUMMARY = re.compile(
    r"organization share (?P<trigger>\S+) (?P<config>\S+): (?P<in_scope>\d+) accounts in scope, "
    r"(?P<granted>\d+) granted, (?P<revoked>\d+) revoked, (?P<kept>\d+) kept, "
    r"(?P<withheld>\d+) revocations withheld, (?P<refused>\d+) refused, (?P<failed>\d+) failed"
)


@dataclass(frozen=True)
class RunReport:
    """What one run of a configuration reported in its summary line, and when it ended."""

    config_id: str
    at: float
    withheld: int
    refused: int
    failed: int


def run_reports(deliveries: Iterable[Delivery], epoch: float) -> dict[str, RunReport]:
    """The last run of each configuration, from the function's summary lines; a delivery that
    timed out or raised counts as a failed run of the configuration it was running."""
    last: dict[str, RunReport] = {}
    for delivery in deliveries:
        at = epoch + delivery.at_seconds
        for match in _SUMMARY.finditer(delivery.invocation.log):
            config = match["config"]
            last[config] = RunReport(
                config, at, int(match["withheld"]), int(match["refused"]), int(match["failed"])
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
        if r.resource_type == resource_type and r.physical_id and not r.status.startswith("DELETE_")
    ]


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value or "").split(",") if v]


def _wanted(organization: Organization, properties: dict[str, Any], owner: str) -> set[str]:
    nested = str(properties.get(INCLUDE_NESTED_PROPERTY, "true")).lower() == "true"
    accounts = organization.active_accounts(_strings(properties[PARENT_IDS_PROPERTY]), nested)
    accounts |= set(_strings(properties.get(ACCOUNT_IDS_PROPERTY)))
    return accounts - set(_strings(properties.get(EXCLUDE_ACCOUNT_IDS_PROPERTY))) - {owner}


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
        listed = shared_accounts(world.aws, image)
        fixed = {account for i, account in static if i == image}
        shares = [
            (engine, r)
            for engine in world.engines
            for r in _live(engine, ORGANIZATION_TYPE)
            if str(r.properties.get(IMAGE_ID_PROPERTY)) == image
        ]
        if image not in organization_images:
            if listed != fixed:
                problems.append(
                    f"{image} is shared with {sorted(listed)}, but the stacks declare "
                    f"{sorted(fixed)}"
                )
            continue
        records = _records(world, image)
        problems += _organization_image(world, image, listed, fixed, shares, reports, records)
        granted = {
            account
            for account, (record, _) in records.items()
            if record.origin == GRANTED and not record.revoking
        }
        unlisted = granted - listed
        if unlisted:
            problems.append(
                f"{image}: the ledger records {sorted(unlisted)} as granted, but WorkSpaces "
                "does not list them"
            )
    return problems


def _records(world: World, image: str) -> dict[str, tuple[PairRecord, bool]]:
    """Each account a live ledger records for ``image``: its record, and whether it is pending
    release (being revoked, or held by a configuration that is no longer live)."""
    records: dict[str, tuple[PairRecord, bool]] = {}
    for engine in world.engines:
        live = {r.physical_id for r in _live(engine, ORGANIZATION_TYPE)}
        for ledger in _ledgers(world.aws, engine):
            for account, record in ledger.pairs(image).items():
                pending = record.revoking or bool(record.holders - live)
                records[account] = (record, pending)
    return records


def _organization_image(
    world: World,
    image: str,
    listed: set[str],
    fixed: set[str],
    shares: list[tuple[StackEngine, Any]],
    reports: dict[str, RunReport],
    records: dict[str, tuple[PairRecord, bool]],
) -> list[str]:
    assert world.organization is not None, "an organization share needs the stand-in's organization"
    wanted: set[str] = set()
    exempt_missing: set[str] = set()
    withheld = 0
    refused_allowance: dict[str, int] = {}
    for engine, resource in shares:
        accounts = _wanted(world.organization, resource.properties, engine.account_id)
        wanted |= accounts
        report = reports.get(resource.physical_id)
        if report is None or report.failed:
            exempt_missing |= accounts  # never run, or failed closed
            continue
        exempt_missing |= accounts & world.organization.changed_since(report.at)
        withheld += report.withheld
        refused_allowance[resource.physical_id] = report.refused
    problems = []
    missing = wanted - listed - exempt_missing
    if len(missing) > sum(refused_allowance.values()):
        problems.append(
            f"{image} is not shared with {sorted(missing)}, which its organization shares "
            f"want (refused reported: {sum(refused_allowance.values())})"
        )
    extra = listed - fixed - wanted
    untracked = extra - set(records)
    if untracked:
        problems.append(
            f"{image} is shared with {sorted(untracked)}: no live declaration wants them and "
            "no ledger records them, so no later run will revoke them"
        )
    changed: set[str] = set()
    for _, resource in shares:
        report = reports.get(resource.physical_id)
        changed |= world.organization.changed_since(report.at if report else 0.0)
    pending = {account for account, (_, is_pending) in records.items() if is_pending}
    unexplained = (extra & set(records)) - changed - pending
    if len(unexplained) > withheld:
        problems.append(
            f"{image} is still shared with {sorted(unexplained)}, which no live declaration "
            f"wants (withheld reported: {withheld})"
        )
    return problems
