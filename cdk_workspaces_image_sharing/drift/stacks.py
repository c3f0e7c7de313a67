"""The pairs the stacks declare: their live ``Custom::WorkspaceImagePermission`` resources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from cdk_workspaces_image_sharing.drift.aws import DriftError
from cdk_workspaces_image_sharing.drift.progress import ProgressCallback
from cdk_workspaces_image_sharing.runtime.sharing_functions.aws_plumbing import (
    CloudFormationClient,
    DynamoDBClient,
    error_code,
    live_resources,
    live_stacks,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    LEDGER_LOGICAL_ID_PREFIX,
    ORGANIZATION_RESOURCE_TYPE,
    PAIR_RESOURCE_TYPE,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    ImageAccountPair,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    image_of_configuration,
)

# What declares a pair: a per-pair share resource, or an organization share (through the
# pairs its ledger records for its configuration).
STACK_RESOURCE = "stack-resource"
ORGANIZATION_SHARE = "organization-share"
# A configuration of an organization share that CloudFormation deleted, or gave up deleting,
# whose ledger still records pairs: the next scheduled run or Delete of the stack's
# organization shares releases them.
DELETED_ORGANIZATION_SHARE = "deleted-organization-share"
LEDGER_TABLE_TYPE = "AWS::DynamoDB::Table"


class StackNotFound(DriftError):
    """A stack named on the command line does not exist (or is deleted)."""


@dataclass(frozen=True)
class ShareResource:
    """One pair a live resource of a stack declares: a ``Custom::WorkspaceImagePermission``
    (``kind`` ``stack-resource``), or one pair an organization share holds
    (``organization-share``; ``physical_id`` is then the pair's)."""

    stack: str
    logical_id: str
    physical_id: str
    status: str
    kind: str = STACK_RESOURCE

    @property
    def share(self) -> ImageAccountPair | None:
        """The pair the physical ID names, or None when it names none (a failed Create's ID)."""
        return ImageAccountPair.from_physical_id(self.physical_id)


@dataclass(frozen=True)
class Declared:
    """What the stacks read declare: the names of those stacks, and their share resources."""

    stacks: tuple[str, ...]
    resources: tuple[ShareResource, ...]


def _is_missing_stack(error: BaseException) -> bool:
    return error_code(error) == "ValidationError" and "does not exist" in str(error)


def _share_resources(
    cloudformation: CloudFormationClient,
    stack_name: str,
    stack_ref: str,
    dynamodb: DynamoDBClient,
) -> list[ShareResource]:
    """The pairs the live share resources of one stack declare, every page of
    ListStackResources read; an organization share's pairs come from its ledger."""
    # Imports botocore: not at --help.
    from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.ledger import (
        ShareLedger,
    )

    summaries = live_resources(cloudformation, stack_ref)

    ledger = next(
        (
            ShareLedger(dynamodb, str(s["PhysicalResourceId"]))
            for s in summaries
            if s.get("ResourceType") == LEDGER_TABLE_TYPE
            and str(s["LogicalResourceId"]).startswith(LEDGER_LOGICAL_ID_PREFIX)
        ),
        None,
    )
    resources = []
    for summary in summaries:
        kind = summary.get("ResourceType")
        physical_id = str(summary["PhysicalResourceId"])
        found = ShareResource(
            stack_name,
            str(summary["LogicalResourceId"]),
            physical_id,
            str(summary["ResourceStatus"]),
        )
        if kind == PAIR_RESOURCE_TYPE:
            resources.append(found)
        elif kind == ORGANIZATION_RESOURCE_TYPE:
            resources += _organization_pairs(found, ledger)
    if ledger is not None:
        resources += _deleted_configuration_pairs(stack_name, ledger)
    return resources


def _deleted_configuration_pairs(stack_name: str, ledger: Any) -> list[ShareResource]:
    """The pairs deleted configurations of the stack's organization shares still hold (their
    ledger's record, which no resource of the stack names any more)."""
    found = []
    for entry in ledger.deleted_configurations():
        configuration_id = entry.config_id
        image_id = image_of_configuration(configuration_id)
        if image_id is None:
            continue
        # Everything it still holds, the pairs whose revoke failed included: left to release.
        for account in sorted(ledger.holdings(image_id, configuration_id)):
            found.append(
                ShareResource(
                    stack_name,
                    configuration_id,
                    ImageAccountPair(image_id, account).physical_id,
                    "DELETED",
                    kind=DELETED_ORGANIZATION_SHARE,
                )
            )
    return found


def _organization_pairs(resource: ShareResource, ledger: Any) -> list[ShareResource]:
    """The pairs an organization share's configuration holds, or the resource itself (a row of
    its own) when its physical ID names no configuration."""
    image_id = image_of_configuration(resource.physical_id)
    if image_id is None or ledger is None:
        return [replace(resource, kind=ORGANIZATION_SHARE)]
    return [
        replace(
            resource,
            physical_id=ImageAccountPair(image_id, account).physical_id,
            kind=ORGANIZATION_SHARE,
        )
        for account in sorted(_held(ledger, image_id, resource.physical_id))
    ]


def _held(ledger: Any, image_id: str, configuration_id: str) -> list[str]:
    """The accounts the configuration wants: what it holds, less the pairs it is revoking
    (those its next run or Delete revokes; repairing them would grant them back)."""
    return [
        account
        for account, record in ledger.pairs(image_id).items()
        if configuration_id in record.holders and not record.revoking
    ]


def read_stacks(
    cloudformation: CloudFormationClient,
    dynamodb: DynamoDBClient,
    names: Iterable[str],
    progress: ProgressCallback = lambda _: None,
) -> Declared:
    """The share resources of the stacks named; raises StackNotFound for one that is not."""
    from botocore.exceptions import ClientError

    names = list(dict.fromkeys(names))
    resources: list[ShareResource] = []
    for number, name in enumerate(names, 1):
        progress(f"reading stack {number}/{len(names)}: {name}")
        try:
            resources += _share_resources(cloudformation, name, name, dynamodb)
        except ClientError as error:
            if _is_missing_stack(error):
                region = cloudformation.meta.region_name
                raise StackNotFound(f"no such stack: {name} (in {region})") from error
            raise
    return Declared(tuple(names), tuple(resources))


def read_all_stacks(
    cloudformation: CloudFormationClient,
    dynamodb: DynamoDBClient,
    progress: ProgressCallback = lambda _: None,
) -> Declared:
    """The share resources of every stack of the account and Region that holds one.

    A stack deleted between ListStacks and its ListStackResources is skipped.
    """
    from botocore.exceptions import ClientError

    progress("listing stacks")
    summaries = live_stacks(cloudformation)
    summaries.sort(key=lambda s: str(s["StackName"]))
    stacks: list[str] = []
    resources: list[ShareResource] = []
    for number, summary in enumerate(summaries, 1):
        name = str(summary["StackName"])
        progress(f"reading stack {number}/{len(summaries)}: {name}")
        try:
            found = _share_resources(cloudformation, name, str(summary["StackId"]), dynamodb)
        except ClientError as error:
            if _is_missing_stack(error):
                continue
            raise
        if found:
            stacks.append(name)
            resources += found
    return Declared(tuple(stacks), tuple(resources))
