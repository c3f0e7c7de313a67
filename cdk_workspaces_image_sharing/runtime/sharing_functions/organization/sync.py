"""One run of an organization share: grant what the organization's accounts need, and release
what a configuration no longer wants, revoking only what this tool granted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import workspaces_api
from ..aws_plumbing import ClientUnavailable, WorkSpacesClient, shared_accounts
from ..image_account_pair import ImageAccountPair
from . import accounts
from .config import (
    ABANDONED_AFTER_SECONDS,
    OrganizationShareConfig,
    image_of_configuration,
    wanted_accounts,
)
from .ledger import GRANTED, DeletedConfiguration, RequestAlreadyProcessed, ShareLedger
from .pacing import Pacer

logger = logging.getLogger(__name__)

METRICS_NAMESPACE = "WorkspaceImageSharing/OrganizationShare"
# Returns the logical ID of another live resource of the stack declaring a pair's physical ID
# (so it must not be revoked), or None. Raises stack_holders.StackUnreadable.
HeldElsewhere = Callable[[str], str | None]
# Grant refusals that concern one account, for good: the rest are still shared, the account is
# reported (Refused) and tried again by scheduled runs. WorkSpaces refuses a BYOL image's share
# with an account not enabled for BYOL, or outside the organization, with this code.
ACCOUNT_REFUSALS = frozenset({"OperationNotSupportedException"})


@dataclass
class RunSummary:
    """What one run did: one log line and one set of CloudWatch metrics (EMF)."""

    trigger: str
    configuration_id: str
    image_id: str
    in_scope: int = 0
    granted: int = 0
    revoked: int = 0
    kept: int = 0
    withheld: int = 0
    failed: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.failed += 1
        if len(self.problems) < 3:  # a long Reason keeps only its end
            self.problems.append(problem)

    def refuse(self, problem: str) -> None:
        """WorkSpaces refused one account for good (``ACCOUNT_REFUSALS``): not a failure of
        the run, unless every account it wants is refused (``all_refused``)."""
        self.refused += 1
        if len(self.problems) < 3:
            self.problems.append(problem)

    @property
    def all_refused(self) -> bool:
        return self.in_scope > 0 and self.refused >= self.in_scope

    def log_line(self) -> str:
        outcome = "; ".join(self.problems) or "ok"
        return (
            f"organization share {self.trigger} {self.configuration_id}: {self.in_scope} "
            f"accounts in scope, {self.granted} granted, {self.revoked} revoked, {self.kept} "
            f"kept, {self.withheld} revocations withheld, {self.refused} refused, "
            f"{self.failed} failed: {outcome}"
        )

    def metrics(self, timestamp_ms: int) -> dict[str, Any]:
        """An Embedded Metric Format document: CloudWatch turns the log line into metrics
        with no API call. Dimension: ImageId."""
        names = (
            "Granted",
            "Revoked",
            "Failed",
            "Refused",
            "AccountsInScope",
            "RevocationsWithheld",
        )
        values = (
            self.granted,
            self.revoked,
            self.failed,
            self.refused,
            self.in_scope,
            self.withheld,
        )
        return {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": METRICS_NAMESPACE,
                        "Dimensions": [["ImageId"]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in names],
                    }
                ],
            },
            "ImageId": self.image_id,
            "Trigger": self.trigger,
            **dict(zip(names, values, strict=True)),
        }

    def report(self, emit: Callable[[str], None] = print) -> None:
        """Log the summary line, and write the metrics as a bare JSON line on stdout (the
        runtime's log formatting would hide it from EMF)."""
        log = logger.warning if self.failed or self.refused else logger.info
        log("%s", self.log_line())
        emit(json.dumps(self.metrics(int(time.time() * 1000))))


@dataclass
class Services:
    """The clients and helpers a run uses."""

    organizations: Callable[[], Any]  # makes the client (assuming a role may fail)
    workspaces: WorkSpacesClient
    ledger: ShareLedger
    pacer: Pacer
    held_elsewhere: HeldElsewhere
    clock: Callable[[], float] = time.time  # the wall clock the ledger dates revokes with


def share_with_organization(
    config: OrganizationShareConfig,
    configuration_id: str,
    owner_account: str,
    services: Services,
    *,
    trigger: str,
) -> RunSummary:
    """Grant every wanted account; on a scheduled run (``trigger == "Scheduled"``) then
    revoke what the configuration alone holds and no longer wants, and what deleted
    configurations alone hold, within the bound. Any failure is recorded in the summary (which
    is always returned, to be reported)."""
    summary = RunSummary(trigger, configuration_id, config.image_id)
    try:
        _share(config, configuration_id, owner_account, services, summary)
    except Exception as error:  # the run stops; what it did is in the ledger and the summary
        summary.fail(f"run stopped: {type(error).__name__}: {error}")
    return summary


def stop_sharing_with_organization(
    image_id: str, configuration_id: str, services: Services, request_id: str | None = None
) -> RunSummary:
    """Release everything the configuration holds (a CloudFormation Delete: not bounded). A
    redelivered Delete of a configuration that is live again changes nothing. Any failure is
    recorded in the summary. Then, best effort, release what configurations abandoned long
    ago still hold (``release_abandoned``: its failures are reported on their own, never this
    Delete's)."""
    summary = RunSummary("Delete", configuration_id, image_id)
    try:
        services.ledger.mark_deleted(configuration_id, request_id)
    except RequestAlreadyProcessed as redelivered:
        logger.info("%s", redelivered)
        return summary
    except Exception as error:
        summary.fail(f"run stopped: {type(error).__name__}: {error}")
        return summary
    try:
        for account in sorted(services.ledger.holdings(image_id, configuration_id)):
            _release(image_id, account, configuration_id, services, summary, scheduled=False)
        if not services.ledger.holdings(image_id, configuration_id):
            for entry in services.ledger.deleted_configurations():
                if entry.config_id == configuration_id:
                    services.ledger.drop_deleted(entry)
    except Exception as error:
        summary.fail(f"run stopped: {type(error).__name__}: {error}")
        return summary
    sweep = RunSummary("Abandoned", configuration_id, image_id)
    try:
        release_abandoned(services, sweep, budget=None)
    except Exception as error:
        sweep.fail(f"run stopped: {type(error).__name__}: {error}")
    if sweep.revoked or sweep.kept or sweep.failed:
        sweep.report()
    return summary


@dataclass(frozen=True)
class _AbandonedPair:
    """One pair deleted configurations hold: its holders among them, and whether releasing
    them all revokes it (no live holder, granted by this tool)."""

    image_id: str
    account: str
    configurations: tuple[str, ...]
    revokes: bool


@dataclass(frozen=True)
class _Abandoned:
    """The abandoned configurations, and the pairs they hold."""

    deleted: list[DeletedConfiguration]
    pairs: list[_AbandonedPair]


def _abandoned(ledger: ShareLedger, now: float) -> _Abandoned:
    """The deleted configurations whose Delete began more than ``ABANDONED_AFTER_SECONDS``
    ago (CloudFormation deleted them, or gave up deleting them: no event of theirs will come
    again), and the pairs they still hold."""
    deleted = [
        d
        for d in ledger.deleted_configurations()
        if now - d.deleted_at > ABANDONED_AFTER_SECONDS and image_of_configuration(d.config_id)
    ]
    by_image: dict[str, set[str]] = {}
    for entry in deleted:
        by_image.setdefault(str(image_of_configuration(entry.config_id)), set()).add(
            entry.config_id
        )
    pairs: list[_AbandonedPair] = []
    for image_id, gone in sorted(by_image.items()):
        for account, record in sorted(ledger.pairs(image_id).items()):
            holders = record.holders & gone
            if holders:
                revokes = record.holders <= gone and record.origin == GRANTED
                pairs.append(_AbandonedPair(image_id, account, tuple(sorted(holders)), revokes))
    return _Abandoned(deleted, pairs)


def release_abandoned(
    services: Services,
    summary: RunSummary,
    *,
    budget: int | None,
    abandoned: _Abandoned | None = None,
) -> None:
    """Release what abandoned configurations hold (``abandoned``, as read before the run's
    own releases; read now when None), revoking at most ``budget`` shares (None: no bound;
    the rest wait for a later run and count as withheld); then forget those that hold nothing
    any more."""
    found = abandoned if abandoned is not None else _abandoned(services.ledger, services.clock())
    for pair in found.pairs:
        if pair.revokes and budget is not None:
            if budget <= 0:
                summary.withheld += 1
                continue
            budget -= 1
        for configuration_id in pair.configurations:
            _release(
                pair.image_id,
                pair.account,
                configuration_id,
                services,
                summary,
                scheduled=budget is not None,
                require_deleted=True,
            )
    for entry in found.deleted:
        image_id = str(image_of_configuration(entry.config_id))
        if not services.ledger.holdings(image_id, entry.config_id):
            services.ledger.drop_deleted(entry)


def _share(
    config: OrganizationShareConfig,
    configuration_id: str,
    owner_account: str,
    services: Services,
    summary: RunSummary,
) -> None:
    scheduled = summary.trigger == "Scheduled"
    try:
        resolved = accounts.resolve_accounts(
            services.organizations(), config.parent_ids, config.include_nested
        )
    except accounts.OrganizationsReadError as error:
        summary.fail(f"Organizations could not be read, nothing changed: {error}")
        return
    if not resolved.accounts:
        summary.fail("the organizational units hold no active account: nothing changed")
        return
    wanted = wanted_accounts(config, sorted(resolved.accounts), owner_account)
    summary.in_scope = len(wanted)
    listed_at = services.clock()  # a revoke the ledger dates after this may not be in `listed`
    listed = set(shared_accounts(services.workspaces, config.image_id))
    for account in sorted(wanted):
        wants = services.ledger.want(
            config.image_id,
            account,
            configuration_id,
            account in listed,
            scheduled=scheduled,
            listed_at=listed_at,
        )
        if wants.skipped:
            summary.problems.append("the configuration was deleted meanwhile: run stopped")
            return
        if wants.must_grant:
            _grant(ImageAccountPair(config.image_id, account), configuration_id, services, summary)
    if not scheduled:
        return
    stale = services.ledger.holdings(config.image_id, configuration_id) - wanted
    pairs = services.ledger.pairs(config.image_id)
    abandoned = _abandoned(services.ledger, services.clock())
    gone = {d.config_id for d in abandoned.deleted}
    # Only what this configuration and abandoned ones alone hold, and this tool granted, would
    # be revoked: the bound counts those (releasing the rest changes nothing in WorkSpaces);
    # abandoned pairs this configuration does not hold take what it leaves.
    revocable = sum(
        1
        for a in stale
        if a in pairs
        and pairs[a].holders <= {configuration_id} | gone
        and pairs[a].origin == GRANTED
    )
    if revocable > config.max_revocations_per_run:
        summary.withheld = revocable
        summary.fail(
            f"{revocable} shares would be revoked, more than MaxRevocationsPerRun "
            f"({config.max_revocations_per_run}): revoked none"
        )
        return
    for account in sorted(stale):
        _release(config.image_id, account, configuration_id, services, summary, scheduled=True)
    # What abandoned configurations hold: within what the bound leaves, the rest later.
    release_abandoned(
        services,
        summary,
        budget=config.max_revocations_per_run - revocable,
        abandoned=abandoned,
    )


def _grant(
    pair: ImageAccountPair, configuration_id: str, services: Services, summary: RunSummary
) -> None:
    """Grant (the ledger already records the intent). If the pair's last holder released it
    while the grant was in flight (a Delete, or an overlapping run that saw the account leave),
    revoke what was just granted: the release's revoke may have come first."""
    services.pacer.wait()
    try:
        workspaces_api.grant(services.workspaces, pair)
    except workspaces_api.ImagePermissionError as error:
        # The ledger keeps the intent: the next run's want() asks for the grant again.
        if error.code in ACCOUNT_REFUSALS:
            summary.refuse(str(error))
        else:
            summary.fail(str(error))
        return
    if services.ledger.is_held(pair.image_id, pair.account_id):
        summary.granted += 1
        return
    logger.info("%s was released while it was being granted: revoking it again", pair.physical_id)
    services.pacer.wait()
    try:
        workspaces_api.revoke(services.workspaces, pair)
    except workspaces_api.ImagePermissionError as error:
        summary.fail(str(error))


def _release(
    image_id: str,
    account: str,
    configuration_id: str,
    services: Services,
    summary: RunSummary,
    *,
    scheduled: bool,
    require_deleted: bool = False,
) -> None:
    """Drop the configuration from the pair's holders; revoke when it was the last holder,
    this tool granted it, and no other live resource of the stack declares it. Until the
    revoke is done the pair stays ``revoking`` among the configuration's holdings, so a run
    that stops or fails in between (time, throttling, a refused call) leaves the release to a
    retried Delete or the next run."""
    pair = ImageAccountPair(image_id, account)
    released = services.ledger.release(
        image_id, account, configuration_id, require_deleted=require_deleted
    )
    if not released.must_revoke:
        summary.kept += released.outcome == "deleted"
        return
    try:
        holder = services.held_elsewhere(pair.physical_id)
    except ClientUnavailable:
        raise  # no answer about the stack at all: the pair stays revoking, for a retry
    except Exception as error:  # stack_holders.StackUnreadable
        if scheduled:  # a scheduled run fails closed; a Delete revokes (see stack_holders)
            summary.fail(f"kept {pair.physical_id}: the stack could not be read ({error})")
            return
        logger.warning("could not read the stack (%s): revoking %s anyway", error, pair.physical_id)
        holder = None
    if holder:
        logger.info("kept %s: resource %s of the stack declares it", pair.physical_id, holder)
        services.ledger.forget(image_id, account, released.version)
        summary.kept += 1
        return
    services.pacer.wait()
    try:
        workspaces_api.revoke(services.workspaces, pair)
    except workspaces_api.ImagePermissionError as error:
        summary.fail(str(error))
        return
    if services.ledger.finish_revoke(image_id, account, released.version):
        summary.revoked += 1
        return
    logger.info(
        "%s was wanted again while it was being revoked: granting it back", pair.physical_id
    )
    services.pacer.wait()
    try:
        workspaces_api.grant(services.workspaces, pair)
    except workspaces_api.ImagePermissionError as error:
        summary.fail(str(error))
