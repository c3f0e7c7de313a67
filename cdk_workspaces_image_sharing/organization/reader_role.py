"""``WorkspaceImageOrganizationReaderRole``: the read-only role, in the management account (or a
delegated administrator), that an image account's organization sharing function assumes."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_workspaces_image_sharing.core.nag import acknowledge, finding_resource
from cdk_workspaces_image_sharing.core.tokens import SynthValue
from cdk_workspaces_image_sharing.core.validation import check_account_id
from cdk_workspaces_image_sharing.organization.function import (
    ROLE_NAME_PREFIX,
    organizations_read_resources,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATIONS_READ_OPERATIONS,
)

DEFAULT_READER_ROLE_NAME = "WorkspaceImageOrganizationReader"


class WorkspaceImageOrganizationReaderRole(Construct):
    """A role that may only list the accounts and child OUs of organizational units, trusted
    by the organization sharing functions of the given image accounts.

    Deploy it in the management account (or a delegated administrator) and pass its ARN as
    ``organizations_role_arn`` to ``WorkspaceImageOrganizationShare`` in the image account.
    Deploy it before the sharing stack: that stack's Create assumes it, and STS refuses a role
    that does not exist (AccessDenied, as for a trust policy that refuses the caller; the
    Reason names both). It may exist before the sharing function's role: IAM refuses a trust
    policy that names a role that does not exist yet, so the trust names each image account
    and requires, with an ``aws:PrincipalArn`` condition, a role whose name starts with the
    sharing function's deterministic prefix (``WorkspaceImageOrgShare-``).

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes in the tree.
    image_account_ids:
        The accounts that own images and share them with the organization; at least one.
    role_name:
        The role's name, so its ARN is known before it exists. Default:
        ``WorkspaceImageOrganizationReader``.
    organizational_unit_ids:
        The OUs or roots the sharing stacks name, to scope the list actions to them and the
        OUs below them. Default: every OU and root of the organization.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_account_ids: Sequence[str],
        role_name: str = DEFAULT_READER_ROLE_NAME,
        organizational_unit_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if not image_account_ids:
            raise ValueError(f"{self.node.path}: image_account_ids is empty: expected at least one")
        for index, account in enumerate(image_account_ids):
            check_account_id(self, SynthValue(self, account), keyword=f"image_account_ids[{index}]")
        principals = [
            iam.AccountPrincipal(account).with_conditions(
                {
                    "ArnLike": {
                        "aws:PrincipalArn": (
                            f"arn:{Aws.PARTITION}:iam::{account}:role/{ROLE_NAME_PREFIX}*"
                        )
                    }
                }
            )
            for account in image_account_ids
        ]
        first, *others = principals
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=first,
            description="Lists the accounts of organizational units for WorkSpaces image sharing",
        )
        assert self.role.assume_role_policy is not None
        for principal in others:
            self.role.assume_role_policy.add_statements(
                iam.PolicyStatement(actions=["sts:AssumeRole"], principals=[principal])
            )
        resources = organizations_read_resources(self, organizational_unit_ids)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[f"organizations:{name}" for name in ORGANIZATIONS_READ_OPERATIONS],
                resources=resources,
            )
        )
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5",
            "Organizations' ARNs hold the management account and organization IDs: the list "
            "actions are scoped to OUs and roots, and to the given ones where given.",
            applies_to=[f"Resource::{finding_resource(self, r)}" for r in resources],
        )
        self.role_arn: str = self.role.role_arn
        """The role's ARN, for ``organizations_role_arn``."""
        CfnOutput(self, "RoleArn", value=self.role.role_arn)
