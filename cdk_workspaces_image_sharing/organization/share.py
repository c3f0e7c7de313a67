"""``WorkspaceImageOrganizationShare``: one WorkSpaces image shared with every active account of
some organizational units, and kept in step with them on a schedule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

from aws_cdk import Aws, CfnResource, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from cdk_workspaces_image_sharing.core.arns import image_arn
from cdk_workspaces_image_sharing.core.stack_facts import stack_facts
from cdk_workspaces_image_sharing.core.tokens import SynthValue, is_literal
from cdk_workspaces_image_sharing.core.validation import check_image_id
from cdk_workspaces_image_sharing.organization.function import (
    ORGANIZATION_SERVICE_TIMEOUT,
    OrganizationSharingFunction,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_IDS_PROPERTY,
    CONFIGURATION_FORMAT,
    CONFIGURATION_FORMAT_PROPERTY,
    CONFIGURATION_ID_KEY,
    EXCLUDE_ACCOUNT_IDS_PROPERTY,
    IMAGE_ID_PROPERTY,
    INCLUDE_NESTED_PROPERTY,
    LOGICAL_ID_KEY,
    MAX_REVOCATIONS_PROPERTY,
    ORGANIZATION_RESOURCE_TYPE,
    PARENT_IDS_PROPERTY,
    PROPERTIES_DIGEST_ATTRIBUTE,
    PROPERTIES_DIGEST_KEY,
    ROLE_ARN_PROPERTY,
    STACK_ID_KEY,
    SYNC_EVENT_KEY,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    account_id_problem,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    DEFAULT_MAX_REVOCATIONS_PER_RUN,
    parent_id_problem,
    role_arn_problem,
)

DEFAULT_SYNC_INTERVAL = Duration.hours(1)


def _is_list_token(value: object) -> TypeGuard[list[str]]:
    """A whole list known only at deploy time (a ``CommaDelimitedList``)."""
    return isinstance(value, list) and not is_literal(value)


class WorkspaceImageOrganizationShare(Construct):
    """Shares a WorkSpaces custom image with every active account of some organizational units
    (OUs), and follows them: an account that joins is shared within ``sync_interval``, one that
    leaves or is suspended is revoked.

    WorkSpaces shares with one account per call; this resource resolves the OUs with AWS
    Organizations and makes those calls, paced, from its own Lambda function. It grants on
    Create and Update (an Update never revokes: each configuration has its own physical ID and
    CloudFormation's cleanup Delete of the old one releases what the new one does not want),
    releases everything on Delete, and on each scheduled run grants what joined and revokes
    what left, at most ``max_revocations_per_run`` shares a run.

    It revokes only shares it granted, recorded in a DynamoDB table the stack holds. A share
    that existed before it (made by hand, or by a ``WorkspaceImagePermission``) is never revoked
    by it, nor is a pair another live resource of its stack declares. It fails closed: when
    Organizations cannot be read, or resolves to no active account, a run changes nothing.

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes in the tree.
    image_id:
        The image to share (``wsi-…``), owned by the stack's account and Region.
    organizational_unit_ids:
        OU IDs (``ou-…``) or the root ID (``r-…``); at least one.
    include_nested:
        Also share with the accounts of every OU below them. Default: True.
    account_ids:
        Extra accounts to share with. May be a ``CommaDelimitedList`` parameter as a whole
        (its length need not be known at synth). Default: none.
    exclude_account_ids:
        Accounts never shared with, even when in an OU. Default: none.
    removal_policy:
        ``RemovalPolicy.DESTROY`` (default) revokes what it granted when the resource leaves
        the stack; ``RETAIN`` leaves every share in place (and, on a configuration change, the
        old configuration's shares too).
    max_revocations_per_run:
        A scheduled run that would revoke more shares than this revokes none and reports why
        (a misconfigured OU, or an Organizations answer gone wrong). A Delete is not bounded.
        Default: 10.
    organizations_role_arn:
        A role to assume for the Organizations reads, for an image account that is not the
        management account or a delegated administrator: see
        ``WorkspaceImageOrganizationReaderRole``. Default: the function's own role reads
        Organizations.
    sync_interval:
        How often to re-resolve the OUs and apply the difference. Default: one hour. None: at
        deploy time only.

    Raises
    ------
    ValueError
        For a literal value that is malformed, naming the construct path and the keyword.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_id: str,
        organizational_unit_ids: Sequence[str],
        include_nested: bool = True,
        account_ids: Sequence[str] | None = None,
        exclude_account_ids: Sequence[str] | None = None,
        removal_policy: RemovalPolicy | None = None,
        max_revocations_per_run: int = DEFAULT_MAX_REVOCATIONS_PER_RUN,
        organizations_role_arn: str | None = None,
        sync_interval: Duration | None = DEFAULT_SYNC_INTERVAL,
    ) -> None:
        super().__init__(scope, construct_id)
        check_image_id(self, SynthValue(self, image_id))
        self._check(organizational_unit_ids, account_ids or [], exclude_account_ids or [])
        if isinstance(max_revocations_per_run, bool) or max_revocations_per_run < 0:
            raise ValueError(
                f"{self.node.path}: max_revocations_per_run ({MAX_REVOCATIONS_PROPERTY}) "
                f"{max_revocations_per_run!r} is not a whole number: expected 0 or more"
            )
        if organizations_role_arn is not None and is_literal(organizations_role_arn):
            problem = role_arn_problem(
                organizations_role_arn, f"organizations_role_arn ({ROLE_ARN_PROPERTY})"
            )
            if problem:
                raise ValueError(f"{self.node.path}: {problem}")
        function = OrganizationSharingFunction.get_or_create(self)
        if organizations_role_arn is None:
            function.read_organizations_directly(organizational_unit_ids)
        else:
            function.assume_for_organizations(organizations_role_arn)
        properties: dict[str, object] = {
            IMAGE_ID_PROPERTY: image_id,
            PARENT_IDS_PROPERTY: list(organizational_unit_ids),
            INCLUDE_NESTED_PROPERTY: "true" if include_nested else "false",
            ACCOUNT_IDS_PROPERTY: account_ids
            if _is_list_token(account_ids)
            else list(account_ids or []),
            EXCLUDE_ACCOUNT_IDS_PROPERTY: list(exclude_account_ids or []),
            MAX_REVOCATIONS_PROPERTY: str(max_revocations_per_run),
            ROLE_ARN_PROPERTY: organizations_role_arn or "",
            CONFIGURATION_FORMAT_PROPERTY: CONFIGURATION_FORMAT,
        }
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function.function_arn,
            resource_type=ORGANIZATION_RESOURCE_TYPE,
            properties=properties,
            removal_policy=removal_policy or RemovalPolicy.DESTROY,
            service_timeout=ORGANIZATION_SERVICE_TIMEOUT,
        )
        function.serve(self.resource)
        self.image_id: str = image_id
        """The shared image's ID, as given."""
        self.image_arn: str = image_arn(self, image_id)
        """ARN of the shared image."""
        self.schedule: events.Rule | None = None
        """The scheduled run's EventBridge rule (None without ``sync_interval``)."""
        if sync_interval is not None:
            self.schedule = self._schedule(function, sync_interval)

    @property
    def accounts_in_scope(self) -> str:
        """How many accounts the last deploy-time run shared with (``Fn::GetAtt``)."""
        return self.resource.get_att_string("AccountsInScope")

    @property
    def accounts_refused(self) -> str:
        """How many accounts WorkSpaces refused for good in the last deploy-time run (a BYOL
        image and an account not enabled for BYOL; ``Fn::GetAtt``). Scheduled runs try them
        again and report them in the ``Refused`` metric."""
        return self.resource.get_att_string("Refused")

    @property
    def physical_id(self) -> str:
        """The configuration's physical ID, ``<ImageId>/organization/<hash>`` (``Ref``)."""
        return self.resource.ref

    def _check(
        self, parents: Sequence[str], accounts: Sequence[str], excluded: Sequence[str]
    ) -> None:
        problems: list[str | None] = []
        if is_literal(parents):
            if not parents:
                problems.append(
                    f"organizational_unit_ids ({PARENT_IDS_PROPERTY}) is empty: expected at "
                    "least one OU or root ID"
                )
            problems += [
                parent_id_problem(p, f"organizational_unit_ids[{i}] ({PARENT_IDS_PROPERTY})")
                for i, p in enumerate(parents)
                if is_literal(p)
            ]
        owner = stack_facts(self).account  # None when unknown at synth
        for keyword, property_name, values, refused in (
            ("account_ids", ACCOUNT_IDS_PROPERTY, accounts, owner),
            ("exclude_account_ids", EXCLUDE_ACCOUNT_IDS_PROPERTY, excluded, None),
        ):
            if not is_literal(values):
                continue
            problems += [
                account_id_problem(value, refused, f"{keyword}[{i}] ({property_name})")
                for i, value in enumerate(values)
                if is_literal(value)
            ]
        found = [p for p in problems if p]
        if found:
            raise ValueError(f"{self.node.path}: {'; '.join(found)}")

    def _schedule(self, function: OrganizationSharingFunction, interval: Duration) -> events.Rule:
        """A rule that runs the function every ``interval`` with this resource's stack, logical
        ID, configuration ID (its ``Ref``) and the digest of its properties (an attribute); the
        handler reads the properties from the ledger, where the Create or Update stored them
        under that digest, so the input stays small whatever the account lists hold
        (EventBridge refuses an input over 8,192 characters) and follows the stack through an
        UPDATE_ROLLBACK as the attribute does."""
        resource = self.resource.node.default_child
        assert isinstance(resource, CfnResource)
        return events.Rule(
            self,
            "Schedule",
            description=f"Re-resolves the organizational units of {self.node.path}",
            schedule=events.Schedule.rate(interval),
            targets=[
                targets.LambdaFunction(
                    function.function,
                    event=events.RuleTargetInput.from_object(
                        {
                            SYNC_EVENT_KEY: {
                                STACK_ID_KEY: Aws.STACK_ID,
                                LOGICAL_ID_KEY: Stack.of(self).get_logical_id(resource),
                                CONFIGURATION_ID_KEY: self.resource.ref,
                                PROPERTIES_DIGEST_KEY: self.resource.get_att_string(
                                    PROPERTIES_DIGEST_ATTRIBUTE
                                ),
                            }
                        }
                    ),
                )
            ],
        )
