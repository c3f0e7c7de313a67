"""The one Lambda function per stack that answers every ``Custom::WorkspaceImagePermission``."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_workspaces_image_sharing.handler.operations import (
    CLOUDFORMATION_OPERATIONS,
    WORKSPACES_OPERATIONS,
)
from cdk_workspaces_image_sharing.handler_asset import HANDLER, handler_code
from cdk_workspaces_image_sharing.nag import acknowledge

# A Create or Update makes one WorkSpaces call, which can take up to
# workspaces_api.worst_case_call_seconds() (73 s) with retries, plus up to 30 s of AccessDenied
# retries while IAM propagates; a Delete also reads the stack within a 60 s budget. crhelper
# answers FAILED 0.5 s before this timeout if the calls take longer.
FUNCTION_TIMEOUT = Duration.minutes(3)
# If the function never answers at all (it crashed before crhelper started), CloudFormation
# gives up after this instead of its default hour.
SERVICE_TIMEOUT = Duration.minutes(5)
# CloudFormation invokes the function asynchronously. Lambda would retry a timed-out or crashed
# invocation (twice by default) after crhelper has answered FAILED and the stack has rolled
# back, granting again what the rollback revoked: no retries, and no event older than the
# custom resource's ServiceTimeout (Lambda's minimum is 60 s).
ASYNC_RETRY_ATTEMPTS = 0
ASYNC_MAX_EVENT_AGE = SERVICE_TIMEOUT
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
IMAGE_PERMISSION_ACTIONS = tuple(f"workspaces:{name}" for name in WORKSPACES_OPERATIONS)
STACK_READ_ACTIONS = tuple(f"cloudformation:{name}" for name in CLOUDFORMATION_OPERATIONS)
_ID = "WorkspaceImageSharingFunction"


def every_image_arn(scope: Construct) -> str:
    """``arn:<partition>:workspaces:<region>:<account>:workspaceimage/*`` of the stack."""
    return Stack.of(scope).format_arn(
        service="workspaces", resource="workspaceimage", resource_name="*"
    )


class SharingFunction(Construct):
    """The stack's sharing function, its role, log group and asynchronous invocation settings;
    use ``get_or_create()``.

    The role may change the permissions of any image of the stack's own account and Region, and
    read the stack's own resources. It does not depend on which images the stack declares:
    after an image change, CloudFormation's cleanup Delete of the old share runs once the
    policy has already been updated, and must still be allowed.
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
        images = every_image_arn(self)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(IMAGE_PERMISSION_ACTIONS), resources=[images])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(STACK_READ_ACTIONS), resources=[Aws.STACK_ID])
        )
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "The function shares images the stack declares; the policy names every image of "
            "the stack's account and Region so that the cleanup Delete after an image change, "
            "which CloudFormation runs after the policy was updated, may still revoke the old "
            "image's share.",
            applies_to=f"Resource::{_nag_resource(self, images)}",
        )
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
        self.async_invoke_config = lambda_.EventInvokeConfig(
            self,
            "AsyncInvoke",
            function=self.function,
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 is a supported Lambda runtime (deprecation scheduled for 2029); the "
            "handler stays on the runtime it was released and tested for until a release "
            "moves it deliberately.",
        )

    @classmethod
    def get_or_create(cls, scope: Construct) -> SharingFunction:
        """The sharing function of ``scope``'s stack, added to the stack on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(_ID)
        if isinstance(existing, SharingFunction):
            return existing
        return cls(stack, _ID)

    def serve(self, share: Construct) -> None:
        """Make ``share`` wait for everything its requests need: the function (through its
        ServiceToken) and the asynchronous invocation settings, so no request can be retried
        under Lambda's defaults on a first deploy."""
        share.node.add_dependency(self.async_invoke_config)


def _nag_resource(scope: Construct, arn: str) -> str:
    """How cdk-nag writes ``arn`` in a finding: pseudo parameters as ``<AWS::Name>``."""
    stack = Stack.of(scope)
    resolved = stack.resolve(arn)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
