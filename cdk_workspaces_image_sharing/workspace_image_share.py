"""``WorkspaceImageShare``: one WorkSpaces image shared with a list of accounts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from aws_cdk import Fn, RemovalPolicy
from constructs import Construct

from cdk_workspaces_image_sharing.sharing_function import SharingFunction, declaring_list_path
from cdk_workspaces_image_sharing.tokens import is_literal, short_hash, stable_key
from cdk_workspaces_image_sharing.validation import check_account_id, check_image_id
from cdk_workspaces_image_sharing.workspace_image_permission import (
    WorkspaceImagePermission,
    image_arn,
)


class WorkspaceImageShare(Construct):
    """Shares a WorkSpaces custom image with every account in a list, one
    ``WorkspaceImagePermission`` per account.

    Each account's construct ID (and so its logical ID) is ``Account<account id>``: reordering
    the list changes nothing, removing an account revokes only that account's share. All
    shares in a stack use one Lambda function, one IAM statement lists each image once, and at
    most 10 shares of a stack are applied at once.

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes in the tree.
    image_id:
        The image to share (``wsi-…``), owned by the stack's account and Region. May be a token.
    account_ids:
        The 12-digit accounts to share with, as strings; at least one, no repeats. Elements may
        be tokens (a parameter, an SSM parameter, another construct's attribute); their logical
        IDs then derive from what the token refers to. The list itself must have a length known
        at synth time (not a ``CommaDelimitedList`` parameter as a whole).
    removal_policy:
        Applied to every share. When left out, ``RemovalPolicy.DESTROY``: removing an account or
        deleting the stack revokes. ``RemovalPolicy.RETAIN`` leaves the shares in place.

    Raises
    ------
    ValueError
        For an empty list, repeated accounts, or any value ``WorkspaceImagePermission`` refuses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_id: str,
        account_ids: Sequence[str],
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not is_literal(account_ids):
            raise ValueError(
                f"{self.node.path}: account_ids is a token whose length is unknown at synth "
                "time: expected a list of account IDs (each may be a token)"
            )
        if not account_ids:
            raise ValueError(f"{self.node.path}: account_ids is empty: expected at least one")
        keys = [stable_key(self, account_id) for account_id in account_ids]
        repeated = sorted(key for key, count in Counter(keys).items() if count > 1)
        if repeated:
            raise ValueError(
                f"{self.node.path}: account_ids repeats {', '.join(map(repr, repeated))}: "
                "expected each account once"
            )
        check_image_id(self, image_id)
        for index, account_id in enumerate(account_ids):
            check_account_id(self, account_id, keyword=f"account_ids[{index}]")
        self.permissions: dict[str, WorkspaceImagePermission] = {}
        """The share of each account, keyed by the account ID as given."""
        SharingFunction.get_or_create(self).serve(self)  # one dependency covers every share
        token = declaring_list_path.set(self.node.path)
        try:
            for account_id, key in sorted(zip(account_ids, keys, strict=True), key=lambda p: p[1]):
                child_id = f"Account{account_id if is_literal(account_id) else short_hash(key)}"
                self.permissions[account_id] = WorkspaceImagePermission(
                    self,
                    child_id,
                    image_id=image_id,
                    shared_account_id=account_id,
                    removal_policy=removal_policy,
                )
        finally:
            declaring_list_path.reset(token)
        self.image_id: str = image_id
        """The shared image's ID, as given."""
        self.image_arn: str = image_arn(self, image_id)
        """ARN of the shared image."""

    @property
    def shared_account_ids(self) -> list[str]:
        """The accounts, each read back from its share (``Fn::GetAtt``) in account-ID order."""
        return [permission.shared_account_id for permission in self.permissions.values()]

    @property
    def shared_account_ids_csv(self) -> str:
        """``shared_account_ids`` joined with commas, e.g. for a ``CfnOutput``."""
        return Fn.join(",", self.shared_account_ids)
