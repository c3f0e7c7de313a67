"""Lambda entry point: the custom resource ``Custom::WorkspaceImagePermission``."""

from __future__ import annotations

import logging
from typing import Any

import boto3
from crhelper import CfnResource

from .. import (
    cloudformation_answers,
    log_redaction,
    stack_holders,
    workspaces_api,
)
from ..aws_plumbing import CloudFormationClient, WorkSpacesClient, made_on_first_use
from ..image_account_pair import ImageAccountPair

logger = logging.getLogger(__name__)
# Before crhelper logs anything (it logs nothing when imported).
log_redaction.install()


helper: CfnResource = cloudformation_answers.answering_once()

# Made once per container, during Lambda's init phase, and reused by every invocation.
_STARTUP = cloudformation_answers.Startup()
# Unset when it could not be made: every request then fails at _STARTUP.check().
_WORKSPACES: WorkSpacesClient
try:
    _WORKSPACES = boto3.client("workspaces", config=workspaces_api.CLIENT_SETTINGS.config())
except Exception as init_error:
    _STARTUP.failed(init_error)
# Only a Delete reads the stack: made then, not in every cold start.
_CLOUDFORMATION: CloudFormationClient = made_on_first_use(
    lambda: boto3.client("cloudformation", config=stack_holders.CLIENT_SETTINGS.config())
)


def _owner_account(event: dict[str, Any]) -> str:
    return cloudformation_answers.stack_account(str(event["StackId"]))


def _start_request(event: dict[str, Any]) -> None:
    """Fail when the function could not start; log the request, never the whole event (its
    ResponseURL is a bearer credential for answering the stack)."""
    _STARTUP.check()
    logger.info(
        "%s %s physical_id=%s properties=%s",
        event.get("RequestType"),
        event.get("LogicalResourceId"),
        event.get("PhysicalResourceId"),
        {k: v for k, v in event.get("ResourceProperties", {}).items() if k != "ServiceToken"},
    )


def _share(share: ImageAccountPair) -> str:
    """Grant the share and return its physical ID.

    The physical ID is set before the call, so that crhelper's timeout response carries it and
    the rollback Delete revokes whatever a timed-out grant may have done. When WorkSpaces
    refuses the grant outright nothing was shared: the physical ID is cleared again, so crhelper
    answers with the event's (Update: the old pair's) or one that names no share (Create).
    """
    helper.PhysicalResourceId = share.physical_id
    try:
        workspaces_api.grant(_WORKSPACES, share)
    except workspaces_api.ImagePermissionError as error:
        if error.changed_nothing:
            helper.PhysicalResourceId = ""
        raise
    helper.Data.update(share.properties())
    logger.info("shared %s", share.physical_id)
    return share.physical_id


@helper.create
def create(event: dict[str, Any], _context: Any) -> str:
    """Validate, then share. Sharing an already-shared pair succeeds."""
    _start_request(event)
    share = ImageAccountPair.from_properties(event["ResourceProperties"], _owner_account(event))
    return _share(share)


@helper.update
def update(event: dict[str, Any], _context: Any) -> str:
    """Share the new pair if it changed; never revoke here (see docs/design.md)."""
    _start_request(event)
    share = ImageAccountPair.from_properties(event["ResourceProperties"], _owner_account(event))
    if share.physical_id == event.get("PhysicalResourceId"):
        helper.Data.update(share.properties())
        logger.info("unchanged %s", share.physical_id)
        return share.physical_id
    return _share(share)


def _held_elsewhere(event: dict[str, Any], physical_id: str) -> str | None:
    try:
        return stack_holders.other_live_holder(
            _CLOUDFORMATION,
            str(event["StackId"]),
            str(event.get("LogicalResourceId", "")),
            physical_id,
        )
    except stack_holders.StackUnreadable as error:
        # A failed cleanup Delete is ignored by CloudFormation and would leave the share in
        # place, untracked; revoking errs toward removing access (drift repair can restore it).
        logger.warning("could not read the stack (%s): revoking %s anyway", error, physical_id)
        return None


@helper.delete
def delete(event: dict[str, Any], _context: Any) -> str:
    """Revoke the pair named by the physical ID, unless another live resource of the stack
    holds it; anything that is not a share ID was never made here."""
    _start_request(event)
    physical_id = str(event.get("PhysicalResourceId", ""))
    share = ImageAccountPair.from_physical_id(physical_id)
    if share is None:
        logger.info("nothing to revoke: %r is not a share this handler made", physical_id)
        return physical_id
    holder = _held_elsewhere(event, physical_id)
    if holder:
        logger.info("kept %s: resource %s of this stack still declares it", physical_id, holder)
    elif workspaces_api.revoke(_WORKSPACES, share):
        logger.info("revoked %s", physical_id)
    else:
        logger.info("image of %s is gone: nothing to revoke", physical_id)
    return physical_id


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda handler; crhelper answers CloudFormation and never raises."""
    helper(event, context)
