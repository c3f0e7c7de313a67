"""Lambda entry point of the organization sharing function: the custom resource
``Custom::WorkspaceImageOrganizationShare`` and its scheduled runs.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from crhelper import CfnResource

from .. import (
    cloudformation_answers,
    log_redaction,
    stack_holders,
    workspaces_api,
)
from ..aws_plumbing import (
    ClientUnavailable,
    CloudFormationClient,
    WorkSpacesClient,
    made_on_first_use,
)
from ..contract import (
    CONFIGURATION_ID_KEY,
    LEDGER_TABLE_ENV,
    LEGACY_PROPERTIES_KEY,
    LOGICAL_ID_KEY,
    PAIR_RESOURCE_TYPE,
    PROPERTIES_DIGEST_ATTRIBUTE,
    PROPERTIES_DIGEST_KEY,
    STACK_ID_KEY,
    SYNC_EVENT_KEY,
)
from . import (
    accounts,
    ledger,
)
from .config import OrganizationShareConfig, image_of_configuration
from .ledger import RequestAlreadyProcessed, ShareLedger, stored_form
from .pacing import Pacer
from .sync import (
    RunSummary,
    Services,
    share_with_organization,
    stop_sharing_with_organization,
)

logger = logging.getLogger(__name__)
# Before crhelper logs anything (it logs nothing when imported).
log_redaction.install()
UPDATE_ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"
# Left unused at the end of a run: the pacer starts no call later than this before the
# Timeout, so the slowest call (every retry, and a grant's AccessDenied window) still ends in
# time to answer CloudFormation and write the summary.
TIME_MARGIN_SECONDS = (
    workspaces_api.CLIENT_SETTINGS.worst_case_call_seconds()
    + workspaces_api.ACCESS_DENIED_RETRY_SECONDS
    + 10.0
)

helper: CfnResource = cloudformation_answers.answering_once()

_STARTUP = cloudformation_answers.Startup()
_SESSION: Any = None
# Unset when they could not be made: every request then fails at _STARTUP.check().
_WORKSPACES: WorkSpacesClient
_LEDGER: ShareLedger | None = None
try:
    _SESSION = accounts.session_with_shipped_models()
    _WORKSPACES = _SESSION.client("workspaces", config=workspaces_api.CLIENT_SETTINGS.config())
    _LEDGER = ShareLedger(
        _SESSION.client("dynamodb", config=ledger.CLIENT_SETTINGS.config()),
        os.environ[LEDGER_TABLE_ENV],
    )
except Exception as init_error:
    _STARTUP.failed(init_error)
# Only an Update and a revoke read CloudFormation: made then, not in every cold start.
_CLOUDFORMATION: CloudFormationClient = made_on_first_use(
    lambda: _SESSION.client("cloudformation", config=stack_holders.CLIENT_SETTINGS.config())
)


def _services(stack_id: str, logical_id: str, role_arn: str | None, context: Any) -> Services:
    assert _LEDGER is not None

    others = stack_holders.OtherStacks(_CLOUDFORMATION, stack_id, PAIR_RESOURCE_TYPE)

    def held_elsewhere(pair_physical_id: str) -> str | None:
        """Another live resource of this stack, or of another stack of the account and Region
        (read only once a revoke is due), declaring the pair."""
        return stack_holders.other_live_holder(
            _CLOUDFORMATION, stack_id, logical_id, pair_physical_id
        ) or others.holder(pair_physical_id)

    remaining = context.get_remaining_time_in_millis() / 1000
    return Services(
        organizations=lambda: accounts.organizations_client(_SESSION, role_arn),
        workspaces=_WORKSPACES,
        ledger=_LEDGER,
        pacer=Pacer.for_remaining_time(remaining, TIME_MARGIN_SECONDS),
        held_elsewhere=held_elsewhere,
    )


def _answer(summary: RunSummary, *, never_fail: bool = False) -> None:
    """Answer with the run's counts; fail with its problems, unless ``never_fail`` (an Update
    back during UPDATE_ROLLBACK: what it could not do is in the summary and the metrics)."""
    helper.Data.update(
        {
            "AccountsInScope": summary.in_scope,
            "Granted": summary.granted,
            "Revoked": summary.revoked,
            "Refused": summary.refused,
        }
    )
    summary.report()
    if (summary.failed or summary.all_refused) and not never_fail:
        # A long Reason keeps its end: the problems first, the count last.
        counts = f"{summary.failed} failed, {summary.refused} refused"
        raise RuntimeError(
            cloudformation_answers.short_reason(f"{'; '.join(summary.problems)} ({counts})")
        )


def _configuration(
    properties: dict[str, Any], stack_id: str, logical_id: str
) -> tuple[OrganizationShareConfig, str, str]:
    """The checked configuration, its physical ID, and the image's owner (the stack's
    account), from a CloudFormation event or a scheduled run alike."""
    owner = cloudformation_answers.stack_account(stack_id)
    config = OrganizationShareConfig.from_properties(properties, owner)
    return config, config.configuration_id(stack_id, logical_id), owner


def _apply(event: dict[str, Any], context: Any) -> str:
    _STARTUP.check()
    stack_id, logical_id = str(event["StackId"]), str(event["LogicalResourceId"])
    config, configuration_id, owner = _configuration(
        event["ResourceProperties"], stack_id, logical_id
    )
    helper.PhysicalResourceId = configuration_id  # a timed-out run's rollback releases it
    assert _LEDGER is not None
    rolling_back = event["RequestType"] == "Update" and _rolling_back(stack_id, configuration_id)
    properties = _stored_properties(event["ResourceProperties"])
    helper.Data[PROPERTIES_DIGEST_ATTRIBUTE] = stored_form(properties)[1]
    try:
        _LEDGER.store_properties(configuration_id, properties)
        _LEDGER.mark_live(configuration_id, str(event["RequestId"]))
    except RequestAlreadyProcessed as redelivered:
        logger.info("%s", redelivered)
        return configuration_id
    except Exception as error:
        if not rolling_back:
            raise
        # An Update back restores a configuration its Create stored and marked live: never
        # fail it (that would leave the stack UPDATE_ROLLBACK_FAILED).
        logger.warning("rolling back: the ledger could not be written (%s)", error)
    services = _services(stack_id, logical_id, config.organizations_role_arn, context)
    summary = share_with_organization(
        config, configuration_id, owner, services, trigger=str(event["RequestType"])
    )
    _answer(summary, never_fail=rolling_back)
    return configuration_id


def _rolling_back(stack_id: str, configuration_id: str) -> bool:
    """Whether CloudFormation is rolling the stack back (its Update is an Update back to the
    old properties, which must never fail). When the stack cannot be read, an Update to a
    configuration already live counts as one (an Update back restores a live configuration;
    failing it would leave the stack UPDATE_ROLLBACK_FAILED); an Update to a new one fails as
    a forward Update does (answered SUCCESS, its old configuration's cleanup would revoke what
    it could not grant)."""
    try:
        return stack_holders.stack_status(_CLOUDFORMATION, stack_id) == UPDATE_ROLLING_BACK
    except (stack_holders.StackUnreadable, ClientUnavailable) as error:
        assert _LEDGER is not None
        live = _LEDGER.is_live(configuration_id)
        logger.warning(
            "could not read the stack's status (%s); configuration live: %s", error, live
        )
        return live


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    """Grant every wanted account; return the configuration's physical ID."""
    return _apply(event, context)


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    """Grant every wanted account of the new configuration; never revoke here."""
    return _apply(event, context)


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    """Release what the configuration its physical ID names holds; anything else was never
    made here."""
    _STARTUP.check()
    physical_id = str(event.get("PhysicalResourceId", ""))
    image_id = image_of_configuration(physical_id)
    if image_id is None:
        logger.info("nothing to release: %r is not an organization share ID", physical_id)
        return physical_id
    stack_id, logical_id = str(event["StackId"]), str(event["LogicalResourceId"])
    services = _services(stack_id, logical_id, None, context)
    request_id = str(event["RequestId"])
    _answer(stop_sharing_with_organization(image_id, physical_id, services, request_id))
    return physical_id


def _stored_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """What a scheduled run needs of the resource's properties (not CloudFormation's own)."""
    return {k: v for k, v in properties.items() if k not in ("ServiceToken", "ServiceTimeout")}


def _scheduled_run(sync: dict[str, Any], context: Any) -> None:
    """A scheduled run of the configuration the rule names (its stack, logical ID and
    configuration ID), on the properties its Create or Update stored under the digest the rule
    sends; a rule deployed before the configuration format 2 sends the properties instead."""
    stack_id, logical_id = str(sync[STACK_ID_KEY]), str(sync[LOGICAL_ID_KEY])
    assert _LEDGER is not None
    if LEGACY_PROPERTIES_KEY in sync:
        properties: dict[str, Any] | None = sync[LEGACY_PROPERTIES_KEY]
        configuration_id = _configuration(properties or {}, stack_id, logical_id)[1]
    else:
        configuration_id = str(sync[CONFIGURATION_ID_KEY])
        properties = _LEDGER.stored_properties(configuration_id, str(sync[PROPERTIES_DIGEST_KEY]))
    if not _LEDGER.is_live(configuration_id):
        logger.info(
            "skipped: configuration %s is not live (not created yet, or deleted)", configuration_id
        )
        return
    if properties is None:
        summary = RunSummary(
            "Scheduled", configuration_id, image_of_configuration(configuration_id) or ""
        )
        summary.fail(
            f"configuration {configuration_id} has no stored properties: deploy its stack with "
            "this release (the resource's Update stores them)"
        )
        summary.report()
        return
    config, derived_id, owner = _configuration(properties, stack_id, logical_id)
    if derived_id != configuration_id:  # pragma: no cover - the rule's Ref is the resource's ID
        raise RuntimeError(f"the stored properties of {configuration_id} make {derived_id}")
    services = _services(stack_id, logical_id, config.organizations_role_arn, context)
    share_with_organization(config, configuration_id, owner, services, trigger="Scheduled").report()


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda handler: a scheduled run, or a CloudFormation request (crhelper answers it and
    never raises)."""
    if SYNC_EVENT_KEY in event:
        _STARTUP.check()
        _scheduled_run(event[SYNC_EVENT_KEY], context)
        return
    helper(event, context)
