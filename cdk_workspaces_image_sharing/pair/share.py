"""``WorkspaceImageShare``: one WorkSpaces image shared with a list of accounts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from aws_cdk import Fn, RemovalPolicy
from constructs import Construct

from cdk_workspaces_image_sharing.core.arns import image_arn
from cdk_workspaces_image_sharing.core.stack_facts import stack_facts
from cdk_workspaces_image_sharing.core.tokens import SynthValue, is_literal, short_hash
from cdk_workspaces_image_sharing.core.validation import check_account_id, check_image_id
from cdk_workspaces_image_sharing.pair.function import PairSharingFunction
from cdk_workspaces_image_sharing.pair.permission import ListedPermission, WorkspaceImagePermission


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
        accounts = [SynthValue(self, account_id) for account_id in account_ids]
        repeated = sorted(
            key for key, count in Counter(a.key for a in accounts).items() if count > 1
        )
        if repeated:
            raise ValueError(
                f"{self.node.path}: account_ids repeats {', '.join(map(repr, repeated))}: "
                "expected each account once"
            )
        facts = stack_facts(self)
        image = SynthValue(self, image_id)
        check_image_id(self, image)
        for index, account in enumerate(accounts):
            check_account_id(self, account, keyword=f"account_ids[{index}]", facts=facts)
        self.permissions: dict[str, WorkspaceImagePermission] = {}
        """The share of each account, keyed by the account ID as given."""
        # One dependency on the list covers every share.
        PairSharingFunction.get_or_create(self, facts).serve(self)
        path = self.node.path
        for account in sorted(accounts, key=lambda a: a.key):
            child_id = f"Account{account.value if account.literal else short_hash(account.key)}"
            self.permissions[account.value] = ListedPermission(
                self,
                child_id,
                image=image,
                account=account,
                facts=facts,
                path=f"{path}/{child_id}",
                removal_policy=removal_policy,
            )
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
