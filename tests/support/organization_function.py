"""The organization sharing function run in-process against the local endpoint: its events
(CloudFormation's and the schedule's), its ledger table, and what WorkSpaces then lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from cdk_workspaces_image_sharing.core.lambda_code import RUNTIME_DIR, LambdaFunctionCode
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    CONFIGURATION_ID_KEY,
    LEDGER_TABLE_ENV,
    LEGACY_PROPERTIES_KEY,
    LOGICAL_ID_KEY,
    ORGANIZATION_RESOURCE_TYPE,
    PROPERTIES_DIGEST_ATTRIBUTE,
    PROPERTIES_DIGEST_KEY,
    STACK_ID_KEY,
    SYNC_EVENT_KEY,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    OrganizationShareConfig,
)
from rehearsal.assembly import FunctionSpec
from rehearsal.cloudformation import CloudFormation, Response
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_runtime import LambdaRuntime, handler_in_process
from rehearsal.local_aws import LocalAws
from tests.support.ledger import create_ledger_table
from tests.support.stacks import HandSetStack, hand_set_stack

LOGICAL_ID = "Workloads"
ALLOW_EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
FUNCTION_TIMEOUT_SECONDS = 900


@dataclass
class OrganizationFunction:
    """One organization share resource's function, its stack and its image."""

    aws: LocalAws
    modules: dict[str, ModuleType]
    cloudformation: CloudFormation
    stack: HandSetStack
    image_id: str
    table: str
    digests: dict[str, str] = field(default_factory=dict)
    """The properties digest each configuration's last successful Create or Update answered."""

    def event(
        self,
        request_type: str,
        properties: dict[str, Any],
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A CloudFormation request for the resource, with a fresh RequestId."""
        return self.cloudformation.event(
            request_type,
            LOGICAL_ID,
            properties,
            physical_id=physical_id,
            old_properties=old_properties,
            stack_id=self.stack.stack_id,
            resource_type=ORGANIZATION_RESOURCE_TYPE,
        )

    def deliver(self, event: dict[str, Any]) -> Response:
        """Invoke the function with ``event`` (again, for a redelivery); returns the checked
        answer (the last one, for a redelivery)."""
        self.modules["organization.entry"].handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))
        response = self.cloudformation.response(event)
        if event["RequestType"] != "Delete" and PROPERTIES_DIGEST_ATTRIBUTE in response.data:
            # The attribute the rule's input reads (Fn::GetAtt), as the stack now holds it.
            self.digests[response.physical_id] = str(response.data[PROPERTIES_DIGEST_ATTRIBUTE])
        return response

    def redeliver(self, event: dict[str, Any]) -> None:
        """Lambda delivers ``event`` again (at least once): CloudFormation took its first
        answer and ignores this one."""
        self.modules["organization.entry"].handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))

    def send(
        self,
        request_type: str,
        properties: dict[str, Any],
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Response:
        """A new CloudFormation request; returns the checked answer."""
        return self.deliver(
            self.event(
                request_type, properties, physical_id=physical_id, old_properties=old_properties
            )
        )

    def configuration_id(self, properties: dict[str, Any]) -> str:
        """The physical ID a Create of ``properties`` answers (the rule's ``Ref``)."""
        config = OrganizationShareConfig.from_properties(properties)
        return config.configuration_id(self.stack.stack_id, LOGICAL_ID)

    def scheduled_run(self, properties: dict[str, Any]) -> None:
        """What the EventBridge rule sends: the stack, the logical ID, and the configuration ID
        and properties digest of ``properties`` (the resource's ``Ref`` and attribute)."""
        self.sync(
            {
                STACK_ID_KEY: self.stack.stack_id,
                LOGICAL_ID_KEY: LOGICAL_ID,
                CONFIGURATION_ID_KEY: self.configuration_id(properties),
                PROPERTIES_DIGEST_KEY: self.digests[self.configuration_id(properties)],
            }
        )

    def scheduled_run_of_a_rule_deployed_before(self, properties: dict[str, Any]) -> None:
        """What a rule deployed before the configuration format 2 sends: the properties."""
        self.sync(
            {
                STACK_ID_KEY: self.stack.stack_id,
                LOGICAL_ID_KEY: LOGICAL_ID,
                LEGACY_PROPERTIES_KEY: properties,
            }
        )

    def sync(self, sync: dict[str, Any]) -> None:
        """Invoke the function as the schedule does, with ``sync`` as the run's content."""
        event = {SYNC_EVENT_KEY: sync}
        self.modules["organization.entry"].handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))

    def shared(self) -> frozenset[str]:
        """What WorkSpaces lists for the image."""
        return self.aws.shared_accounts(self.image_id)


@contextmanager
def organization_function_on_runtime_sdk(
    aws: LocalAws, image_id: str
) -> Iterator[tuple[LambdaRuntime, CloudFormation, HandSetStack, str]]:
    """The function in a Lambda-like container (Python 3.13, the runtime's older SDK), with a
    ledger table of its own and a stack readable through CloudFormation; its calls are paced as
    deployed."""
    table = create_ledger_table(aws.client("dynamodb"))
    stack = hand_set_stack(aws, "OrganizationSharing", "UPDATE_COMPLETE")
    spec = FunctionSpec(
        logical_id="OrganizationSharingFunction",
        handler=LambdaFunctionCode.ORGANIZATION.handler,
        timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
        environment={LEDGER_TABLE_ENV: table},
        asset_dir=RUNTIME_DIR,
    )
    runtime = LambdaRuntime(spec, aws.environment)
    try:
        yield runtime, CloudFormation(aws), stack, table
    finally:
        runtime.close()


@contextmanager
def organization_function(
    aws: LocalAws, image_id: str, role_arn: str | None = None
) -> Iterator[OrganizationFunction]:
    """The function's modules imported fresh, with a ledger table of their own, calls unpaced
    (the pacing is tested on a simulated clock), and a stack readable through CloudFormation.
    With ``role_arn``, the function signs as that role (allowed everything by its own policy)
    and STS checks the trust policies of the roles it assumes as that principal."""
    table = create_ledger_table(aws.client("dynamodb"))
    environment = {**aws.environment, LEDGER_TABLE_ENV: table}
    if role_arn is not None:
        key = "AKIA" + role_arn.rsplit("/", 1)[-1].upper().replace("-", "")[:16]
        everything = {"Version": "2012-10-17", "Statement": [ALLOW_EVERYTHING]}
        aws.faults.roles.register(key, lambda: [everything], principal_arn=role_arn)
        environment["AWS_ACCESS_KEY_ID"] = key
    stack = hand_set_stack(aws, "OrganizationSharing", "UPDATE_COMPLETE")
    with handler_in_process(environment) as modules:
        vars(modules["organization.pacing"])["CALL_INTERVAL_SECONDS"] = 0.0
        yield OrganizationFunction(aws, modules, CloudFormation(aws), stack, image_id, table)
