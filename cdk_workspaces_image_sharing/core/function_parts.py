"""What both sharing functions are made of: a log group, a role that may change the permissions
of the stack's own images and read the stack, and a Python 3.13 function whose asynchronous
invocations are never retried."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cdk_workspaces_image_sharing.core.arns import every_image_arn
from cdk_workspaces_image_sharing.core.lambda_code import LAMBDA_RUNTIME, LambdaFunctionCode
from cdk_workspaces_image_sharing.core.nag import acknowledge, finding_resource
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    CLOUDFORMATION_OPERATIONS,
    WORKSPACES_OPERATIONS,
)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# CloudFormation invokes the functions asynchronously. Lambda would retry a timed-out or
# crashed invocation (twice by default) after crhelper has answered FAILED and the stack has
# rolled back, granting again what the rollback revoked: no retries.
ASYNC_RETRY_ATTEMPTS = 0
# Lambda's least MaximumEventAge for asynchronous invocations.
MIN_ASYNC_EVENT_AGE = Duration.seconds(60)
IMAGE_PERMISSION_ACTIONS = tuple(f"workspaces:{name}" for name in WORKSPACES_OPERATIONS)
STACK_READ_ACTIONS = tuple(f"cloudformation:{name}" for name in CLOUDFORMATION_OPERATIONS)


@dataclass(frozen=True)
class SharingRole:
    """A function's role, its default policy and its log group."""

    role: iam.Role
    policy: IConstruct
    log_group: logs.LogGroup


def sharing_role(scope: Construct, description: str, role_name: str | None = None) -> SharingRole:
    """A log group (30 days) and a role that may write to it, change the permissions of every
    image of the stack's account and Region, and read the stack's own resources.

    Every image, not the declared ones: CloudFormation updates the policy before the function
    and the shares, and runs the cleanup Delete of a replaced share after everything else, so
    after an image change the old image's revoke must still be allowed.
    """
    log_group = logs.LogGroup(scope, "Logs", retention=LOG_RETENTION)
    role = iam.Role(
        scope,
        "Role",
        role_name=role_name,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    # Written out rather than AWSLambdaBasicExecutionRole, which allows every log group.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    images = every_image_arn(scope)
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(IMAGE_PERMISSION_ACTIONS), resources=[images])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(STACK_READ_ACTIONS), resources=[Aws.STACK_ID])
    )
    policy = role.node.find_child("DefaultPolicy")
    acknowledge(
        policy,
        "AwsSolutions-IAM5",
        "The function shares images the stack declares; the policy names every image of the "
        "stack's account and Region so that the cleanup Delete after an image change, which "
        "CloudFormation runs after the policy was updated, may still revoke the old image's "
        "share.",
        applies_to=f"Resource::{finding_resource(scope, images)}",
    )
    return SharingRole(role, policy, log_group)


def async_event_age(timeout: Duration, service_timeout: Duration) -> Duration:
    """The oldest asynchronous event the function may still start: Lambda may hold a throttled
    event that long before its first delivery, and the invocation may then run its whole
    ``timeout``; both together end by ``service_timeout``, when CloudFormation stops waiting
    and sends the rollback Delete (a later start would grant with no owner). Raises
    ValueError when that leaves less than Lambda's least age."""
    age = service_timeout.to_seconds() - timeout.to_seconds()
    if age < MIN_ASYNC_EVENT_AGE.to_seconds():
        raise ValueError(
            f"a ServiceTimeout of {service_timeout.to_seconds()} s leaves no room for Lambda's "
            f"{MIN_ASYNC_EVENT_AGE.to_seconds()} s least event age after a "
            f"{timeout.to_seconds()} s Timeout"
        )
    return Duration.seconds(age)


def python_function(
    scope: Construct,
    *,
    description: str,
    code: LambdaFunctionCode,
    timeout: Duration,
    service_timeout: Duration,
    parts: SharingRole,
    environment: dict[str, str] | None = None,
) -> tuple[lambda_.Function, lambda_.EventInvokeConfig]:
    """The function (Python 3.13, arm64, 256 MB, LOG_LEVEL INFO) on the handler asset, and its
    asynchronous invocation settings: no retries (a retried CloudFormation event would land
    after the stack rolled back), and no event older than ``async_event_age(timeout,
    service_timeout)``, so that one started late still ends before the custom resources'
    ``service_timeout``. ``code``: which function's code it runs."""
    function = lambda_.Function(
        scope,
        "Function",
        description=description,
        runtime=LAMBDA_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler=code.handler,
        code=code.asset(),
        memory_size=256,
        timeout=timeout,
        role=parts.role,
        log_group=parts.log_group,
        environment={"LOG_LEVEL": "INFO", **(environment or {})},
    )
    invoke_config = lambda_.EventInvokeConfig(
        scope,
        "AsyncInvoke",
        function=function,
        retry_attempts=ASYNC_RETRY_ATTEMPTS,
        max_event_age=async_event_age(timeout, service_timeout),
    )
    acknowledge(
        function,
        "AwsSolutions-L1",
        "python3.13 is a supported Lambda runtime (deprecation scheduled for 2029); the "
        "handler stays on the runtime it was released and tested for until a release moves "
        "it deliberately.",
    )
    return function, invoke_config
