#!/usr/bin/env python3
"""Example: share an image with every account of two OUs, from an image account that is not
the management account. Two stacks, the reader role first (the sharing stack's Create assumes
it, and STS refuses a role that does not exist yet):

    cdk deploy OrganizationReader   # first, with management-account credentials
    cdk deploy ImageSharing         # then, with image-account credentials

Context (all optional, placeholders otherwise): managementAccount, imageAccount, imageId,
ouIds (comma-separated).
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_workspaces_image_sharing import (
    WorkspaceImageOrganizationReaderRole,
    WorkspaceImageOrganizationShare,
)

READER_ROLE_NAME = "WorkspaceImageOrganizationReader"


def build_app(app: cdk.App) -> tuple[cdk.Stack, cdk.Stack]:
    """Add the management account's reader stack and the image account's sharing stack."""
    management = str(app.node.try_get_context("managementAccount") or "111111111111")
    image_account = str(app.node.try_get_context("imageAccount") or "222222222222")
    region = str(app.node.try_get_context("region") or "us-east-1")
    image_id = str(app.node.try_get_context("imageId") or "wsi-0123456789")
    ou_ids = str(app.node.try_get_context("ouIds") or "ou-ab12-11111111,ou-ab12-22222222")

    reader_stack = cdk.Stack(
        app, "OrganizationReader", env=cdk.Environment(account=management, region=region)
    )
    WorkspaceImageOrganizationReaderRole(
        reader_stack, "Reader", image_account_ids=[image_account], role_name=READER_ROLE_NAME
    )
    sharing_stack = cdk.Stack(
        app, "ImageSharing", env=cdk.Environment(account=image_account, region=region)
    )
    WorkspaceImageOrganizationShare(
        sharing_stack,
        "Workloads",
        image_id=image_id,
        organizational_unit_ids=ou_ids.split(","),
        organizations_role_arn=f"arn:aws:iam::{management}:role/{READER_ROLE_NAME}",
    )
    return reader_stack, sharing_stack


if __name__ == "__main__":
    example = cdk.App()
    build_app(example)
    example.synth()
