"""The one Lambda function per stack that answers every ``Custom::WorkspaceImageOrganizationShare``
and runs their schedules, with its role, share ledger table and log group.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from cdk_workspaces_image_sharing.core.function_parts import python_function, sharing_role
from cdk_workspaces_image_sharing.core.lambda_code import LambdaFunctionCode
from cdk_workspaces_image_sharing.core.nag import acknowledge, finding_resource
from cdk_workspaces_image_sharing.core.stack_facts import stack_facts
from cdk_workspaces_image_sharing.core.tokens import is_literal, short_hash
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    LEDGER_CONSTRUCT_ID,
    LEDGER_EXPIRES_ATTRIBUTE,
    LEDGER_OPERATIONS,
    LEDGER_PARTITION_KEY,
    LEDGER_SORT_KEY,
    LEDGER_TABLE_ENV,
    LIST_STACK_RESOURCES,
    LIST_STACKS,
    ORGANIZATION_FUNCTION_CONSTRUCT_ID,
    ORGANIZATIONS_READ_OPERATIONS,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    SERVICE_TIMEOUT_SECONDS,
)

# Lambda's limit: the time budget of one run is in docs and on sharing_functions.organization.entry.
ORGANIZATION_FUNCTION_TIMEOUT = Duration.minutes(15)
# Longer than the function may run, so crhelper's FAILED answer always arrives first, with
# room for an event Lambda starts late (function_parts.async_event_age).
ORGANIZATION_SERVICE_TIMEOUT = Duration.seconds(SERVICE_TIMEOUT_SECONDS)
# The management account's reader role trusts roles of the image account named with this
# prefix (IAM refuses a trust policy naming a role that does not exist yet).
ROLE_NAME_PREFIX = "WorkspaceImageOrgShare-"


def organizations_read_resources(scope: Construct, parent_ids: Sequence[str]) -> list[str]:
    """The ARNs Organizations authorizes ListAccountsForParent and
    ListOrganizationalUnitsForParent on (Service Authorization Reference: resource types
    ``organizationalunit`` and ``root``): each OU or root given, and the OUs below it, which
    share its root's part of the ID (``ou-<root part>-…``). The management account and the
    organization ID are not known here: ``*`` and ``o-*``. A token (a string or a whole list),
    or no ID, allows every OU and root of the organization."""
    base = f"arn:{Aws.PARTITION}:organizations::*"
    if not parent_ids or not is_literal(parent_ids) or any(not is_literal(p) for p in parent_ids):
        return [f"{base}:root/o-*/r-*", f"{base}:ou/o-*/ou-*"]
    resources: list[str] = []
    for parent in parent_ids:
        kind, root_part = (
            ("root", parent[2:])
            if parent.startswith("r-")
            else (
                "ou",
                parent.split("-")[1],
            )
        )
        for arn in (f"{base}:{kind}/o-*/{parent}", f"{base}:ou/o-*/ou-{root_part}-*"):
            if arn not in resources:
                resources.append(arn)
    return resources


def _deployed_name(stack: Stack) -> str:
    """A top-level stack's name; for a nested stack, whose ``stack_name`` is a token, its
    top-level stack's name and its construct path below that stack."""
    top = stack
    while top.nested_stack_parent is not None:
        top = top.nested_stack_parent
    if top is stack:
        return stack.stack_name
    return f"{top.stack_name}/{stack.node.path.removeprefix(top.node.path + '/')}"


def organization_sharing_role_name(stack: Stack) -> str:
    """The function role's name: the prefix, the Region and a hash of the stack's deployed
    name, so that it is known before the stack is deployed, the same in every synth, and
    unique per stack (nested ones included) and Region."""
    return f"{ROLE_NAME_PREFIX}{Aws.REGION}-{short_hash(_deployed_name(stack))}"


class OrganizationSharingFunction(Construct):
    """The stack's organization sharing function; use ``get_or_create()``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.ledger = dynamodb.Table(
            self,
            LEDGER_CONSTRUCT_ID,
            partition_key=dynamodb.Attribute(
                name=LEDGER_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=LEDGER_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The tombstones of revoked pairs expire (the ledger module).
            time_to_live_attribute=LEDGER_EXPIRES_ATTRIBUTE,
            # The ledger outlives nothing it records: every share it holds is released by the
            # resources' Deletes, which run before the table is deleted.
            removal_policy=RemovalPolicy.DESTROY,
        )
        parts = sharing_role(
            self,
            "Shares WorkSpaces images with organizational units",
            role_name=organization_sharing_role_name(stack),
        )
        self.role, self.log_group, self._policy = parts.role, parts.log_group, parts.policy
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[f"dynamodb:{name}" for name in LEDGER_OPERATIONS],
                resources=[self.ledger.table_arn],
            )
        )
        # Before a revoke, the account and Region's other stacks are read for a per-pair
        # resource declaring the pair: ListStacks takes no resource-level permission, and
        # their resources are on every stack of the account and Region.
        every_stack = stack.format_arn(
            service="cloudformation", resource="stack", resource_name="*/*"
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=[f"cloudformation:{LIST_STACKS}"], resources=["*"])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[f"cloudformation:{LIST_STACK_RESOURCES}"], resources=[every_stack]
            )
        )
        acknowledge(
            self._policy,
            "AwsSolutions-IAM5",
            "Before revoking a share, the function checks that no other stack of the account "
            "and Region declares it: cloudformation:ListStacks takes no resource-level "
            "permission, and ListStackResources is needed on each of those stacks.",
            applies_to=["Resource::*", f"Resource::{finding_resource(self, every_stack)}"],
        )
        self._assumable: set[str] = set()
        self._read: set[str] = set()
        self.function, self.async_invoke_config = python_function(
            self,
            description="Custom::WorkspaceImageOrganizationShare: shares images with OUs",
            code=LambdaFunctionCode.ORGANIZATION,
            timeout=ORGANIZATION_FUNCTION_TIMEOUT,
            # Also bounds a scheduled run's event: a missed run is made up by the next one.
            service_timeout=ORGANIZATION_SERVICE_TIMEOUT,
            parts=parts,
            environment={LEDGER_TABLE_ENV: self.ledger.table_name},
        )

    @classmethod
    def get_or_create(cls, scope: Construct) -> OrganizationSharingFunction:
        """The organization sharing function of ``scope``'s stack, added on first use."""
        facts = stack_facts(scope)
        return facts.one_of(cls, facts.stack, ORGANIZATION_FUNCTION_CONSTRUCT_ID)

    def read_organizations_directly(self, parent_ids: Sequence[str]) -> None:
        """Allow Organizations' list calls on ``parent_ids`` and the OUs below them with the
        function's own role (the management account or a delegated administrator)."""
        resources = [
            r for r in organizations_read_resources(self, parent_ids) if r not in self._read
        ]
        if not resources:
            return
        self._read.update(resources)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[f"organizations:{name}" for name in ORGANIZATIONS_READ_OPERATIONS],
                resources=resources,
            )
        )
        acknowledge(
            self._policy,
            "AwsSolutions-IAM5",
            "Organizations' ARNs hold the management account and organization IDs, unknown "
            "here: the list actions are scoped to the given OUs and roots, and to the OUs of "
            "the same root below them.",
            applies_to=[f"Resource::{finding_resource(self, r)}" for r in resources],
        )

    def assume_for_organizations(self, role_arn: str) -> None:
        """Allow assuming ``role_arn`` (the management account's reader role)."""
        if role_arn in self._assumable:
            return
        self._assumable.add(role_arn)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn])
        )

    def serve(self, resource: IConstruct) -> None:
        """Make ``resource`` wait for the asynchronous settings (and so for the function)."""
        resource.node.add_dependency(self.async_invoke_config)
