"""The one Lambda function per stack that answers every ``Custom::WorkspaceImagePermission``."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from cdk_workspaces_image_sharing.core.function_parts import python_function, sharing_role
from cdk_workspaces_image_sharing.core.lambda_code import LambdaFunctionCode
from cdk_workspaces_image_sharing.core.stack_facts import StackFacts, stack_facts

# A Create or Update makes one WorkSpaces call (workspaces_api.CLIENT_SETTINGS'
# worst_case_call_seconds(), retries included), after up to ACCESS_DENIED_RETRY_SECONDS of
# AccessDenied retries while IAM propagates; a Delete also reads the stack within
# stack_holders.READ_BUDGET_SECONDS. crhelper answers FAILED before this timeout if the calls
# take longer (tests/functional/runtime/test_workspaces_api.py checks that they fit).
FUNCTION_TIMEOUT = Duration.minutes(3)
# If the function never answers at all (it crashed before crhelper started), CloudFormation
# gives up after this instead of its default hour.
SERVICE_TIMEOUT = Duration.minutes(5)
_ID = "WorkspaceImageSharingFunction"


class PairSharingFunction(Construct):
    """The stack's sharing function, its role, log group and asynchronous invocation settings;
    use ``get_or_create()``.

    The role may change the permissions of any image of the stack's own account and Region, and
    read the stack's own resources. It does not depend on which images the stack declares:
    after an image change, CloudFormation's cleanup Delete of the old share runs once the
    policy has already been updated, and must still be allowed.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        parts = sharing_role(self, "Shares WorkSpaces images for Custom::WorkspaceImagePermission")
        self.role, self.log_group = parts.role, parts.log_group
        self.function, self.async_invoke_config = python_function(
            self,
            description="Custom::WorkspaceImagePermission: shares WorkSpaces images",
            code=LambdaFunctionCode.PAIR,
            timeout=FUNCTION_TIMEOUT,
            service_timeout=SERVICE_TIMEOUT,
            parts=parts,
        )
        self.service_token: str = self.function.function_arn
        """The function's ARN, each share's ServiceToken."""

    @classmethod
    def get_or_create(
        cls, scope: Construct, facts: StackFacts | None = None
    ) -> PairSharingFunction:
        """The sharing function of ``scope``'s stack, added to the stack on first use."""
        facts = facts or stack_facts(scope)
        return facts.one_of(cls, facts.stack, _ID)

    def serve(self, share: Construct) -> None:
        """Make ``share`` wait for everything its requests need: the function (through its
        ServiceToken) and the asynchronous invocation settings, so no request can be retried
        under Lambda's defaults on a first deploy."""
        share.node.add_dependency(self.async_invoke_config)
