"""The one Lambda function per stack that answers every ``Custom::WorkspaceImagePermission``."""

from __future__ import annotations

from aws_cdk import Aspects, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_workspaces_image_sharing.concurrency import ShareLanes
from cdk_workspaces_image_sharing.handler_asset import HANDLER, handler_code
from cdk_workspaces_image_sharing.nag import acknowledge

# The handler makes at most two WorkSpaces calls per request in the common case; each can take
# up to image_permissions.worst_case_call_seconds() (73 s) with retries. crhelper answers
# FAILED 0.5 s before this timeout if the calls take longer.
FUNCTION_TIMEOUT = Duration.minutes(3)
# If the function never answers at all (it crashed before crhelper started), CloudFormation
# gives up after this instead of its default hour.
SERVICE_TIMEOUT = Duration.minutes(5)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
IMAGE_PERMISSION_ACTIONS = (
    "workspaces:UpdateWorkspaceImagePermission",
    "workspaces:DescribeWorkspaceImagePermissions",
)
_ID = "WorkspaceImageSharingFunction"


class SharingFunction(Construct):
    """The stack's sharing function, its role and its log group; use ``of()`` to get it.

    The role may change image permissions only on the images registered with ``allow_image``,
    all in one IAM statement.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Shares WorkSpaces images for Custom::WorkspaceImagePermission",
        )
        # Written out rather than AWSLambdaBasicExecutionRole, which allows every log group.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self._image_statement = iam.PolicyStatement(actions=list(IMAGE_PERMISSION_ACTIONS))
        self._image_arns: set[str] = set()
        self.function = lambda_.Function(
            self,
            "Function",
            description="Custom::WorkspaceImagePermission: shares WorkSpaces images",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=handler_code(),
            memory_size=256,
            timeout=FUNCTION_TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            environment={"LOG_LEVEL": "INFO"},
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 is a supported Lambda runtime (deprecation scheduled for 2029); the "
            "handler stays on the runtime it was released and tested for until a release "
            "moves it deliberately.",
        )
        # The construct path that declared each image/account pair (by stable key), to refuse
        # a pair declared twice.
        self.declared_pairs: dict[str, str] = {}
        self.lanes = ShareLanes(self)
        Aspects.of(Stack.of(self)).add(self.lanes)

    @classmethod
    def of(cls, scope: Construct) -> SharingFunction:
        """The sharing function of ``scope``'s stack, created on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(_ID)
        if isinstance(existing, SharingFunction):
            return existing
        return cls(stack, _ID)

    def allow_image(self, image_arn: str) -> None:
        """Let the function change permissions of this image (idempotent)."""
        if image_arn in self._image_arns:
            return
        if not self._image_arns:
            self.role.add_to_principal_policy(self._image_statement)
        self._image_arns.add(image_arn)
        self._image_statement.add_resources(image_arn)
