"""``WorkspaceImagePermission``: one WorkSpaces image shared with one account."""

from __future__ import annotations

from aws_cdk import CustomResource, RemovalPolicy
from constructs import Construct

from cdk_workspaces_image_sharing.core.arns import image_arn
from cdk_workspaces_image_sharing.core.stack_facts import StackFacts, stack_facts
from cdk_workspaces_image_sharing.core.tokens import SynthValue
from cdk_workspaces_image_sharing.core.validation import check_account_id, check_image_id
from cdk_workspaces_image_sharing.pair.function import SERVICE_TIMEOUT, PairSharingFunction
from cdk_workspaces_image_sharing.pair.registry import ShareRegistry
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
    PAIR_RESOURCE_TYPE,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    ImageAccountPair,
)


class WorkspaceImagePermission(Construct):
    """Shares a WorkSpaces custom image with one other AWS account for the life of the resource.

    Creates one ``Custom::WorkspaceImagePermission`` resource (properties ``ImageId`` and
    ``SharedAccountId``) served by one Lambda function per stack. Create shares the image;
    changing either value shares with the new pair and CloudFormation's cleanup revokes the old
    one; Delete revokes the share. CloudFormation applies at most ``MAX_CONCURRENT_SHARES``
    (10) shares of a stack at once (DependsOn chains), so WorkSpaces does not throttle large
    stacks into failure.

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes in the tree.
    image_id:
        The image to share, ``wsi-`` followed by 9 to 63 lowercase letters or digits. It must
        belong to the stack's account and Region. A token is checked at deploy time instead.
    shared_account_id:
        The 12-digit account to share with, as a string (an int would lose leading zeros). It
        must not be the stack's own account. A token is checked at deploy time instead.
    removal_policy:
        What happens to the share when the resource leaves the stack. When left out,
        ``RemovalPolicy.DESTROY``: the share is revoked. ``RemovalPolicy.RETAIN`` leaves the
        share in place, and also keeps the old account shared when the account changes
        (CloudFormation then skips the cleanup Delete).

    Raises
    ------
    ValueError
        For a literal value that is malformed, is the stack's own account, or repeats an
        image and account already shared in this App and environment (see
        ``share_registry``). The message names the construct path.

    Example
    -------
    ::

        WorkspaceImagePermission(
            stack, "ShareWithTest", image_id="wsi-0123456789", shared_account_id="111122223333"
        )
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_id: str,
        shared_account_id: str,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        facts = stack_facts(self)
        image, account = SynthValue(self, image_id), SynthValue(self, shared_account_id)
        check_image_id(self, image)
        check_account_id(self, account, facts=facts)
        provider = self._declare(image, account, facts, self.node.path, removal_policy)
        provider.serve(self.resource)

    def _declare(
        self,
        image: SynthValue,
        account: SynthValue,
        facts: StackFacts,
        path: str,
        removal_policy: RemovalPolicy | None,
    ) -> PairSharingFunction:
        """Register the checked pair at ``path`` and make its resource; return its function."""
        ShareRegistry.get_or_create(self, facts).register_share(self, image, account, facts, path)
        provider = PairSharingFunction.get_or_create(self, facts)
        self._image_id = image.value
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=PAIR_RESOURCE_TYPE,
            properties=ImageAccountPair(image.value, account.value).properties(),
            removal_policy=removal_policy or RemovalPolicy.DESTROY,
            service_timeout=SERVICE_TIMEOUT,
        )
        return provider

    @property
    def image_arn(self) -> str:
        """ARN of the shared image."""
        return image_arn(self, self._image_id)

    @property
    def image_id(self) -> str:
        """The shared image's ID, available once the share exists (``Fn::GetAtt ImageId``)."""
        return self.resource.get_att_string(IMAGE_ID_PROPERTY)

    @property
    def shared_account_id(self) -> str:
        """The account the image is shared with, once shared (``Fn::GetAtt SharedAccountId``)."""
        return self.resource.get_att_string(ACCOUNT_ID_PROPERTY)

    @property
    def physical_id(self) -> str:
        """The share's physical ID, ``"<ImageId>/<SharedAccountId>"`` (``Ref``)."""
        return self.resource.ref


class ListedPermission(WorkspaceImagePermission):
    """One account of a ``WorkspaceImageShare``, which checked its values and made it wait for
    the function's settings (one dependency on the list covers its children)."""

    def __init__(
        self,
        share: Construct,
        construct_id: str,
        *,
        image: SynthValue,
        account: SynthValue,
        facts: StackFacts,
        path: str,
        removal_policy: RemovalPolicy | None,
    ) -> None:
        # Construct's own initializer: WorkspaceImagePermission's would check the values again.
        Construct.__init__(self, share, construct_id)
        self._declare(image, account, facts, path, removal_policy)
