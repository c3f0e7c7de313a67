"""A stand-in for CloudFormation's stack engine, strict where the share's correctness depends on it.

It runs whole synthesized templates: IAM roles and policies (whose documents, as they stand at
each moment, decide the function's calls: ``iam_check``), the function and its
EventInvokeConfig (which decide Lambda's retries: ``lambda_service``), and the custom
resources, whose events go to the function asynchronously. Intrinsics (Ref, Fn::GetAtt,
Fn::Join, Fn::Sub) are resolved against the live resources. Everything else is created
instantly.

Order, as CloudFormation: creates and updates in dependency order (several at once); the
cleanup phase after every other resource is updated; on failure, Updates back in reverse
dependency order (a resource whose own Update failed gets one only if its answer kept the old
physical ID; with a new ID it is treated as replaced and that ID is Deleted), then the rollback
cleanup; a failed cleanup Delete is attempted three times, then the resource is removed from the
stack (``abandoned``) and the operation completes. DeletionPolicy Retain skips a Delete
(and UpdateReplacePolicy Retain the Delete of a replaced physical ID).

Statuses, as DescribeStacks and ListStackResources show them (``cloudformation_reads``):

=================================================  ===============================================
stack status                                        resource statuses shown
=================================================  ===============================================
CREATE_IN_PROGRESS                                  CREATE_IN_PROGRESS, CREATE_COMPLETE,
                                                    CREATE_FAILED
ROLLBACK_IN_PROGRESS (a failed creation)            DELETE_IN_PROGRESS, DELETE_COMPLETE,
                                                    DELETE_SKIPPED (Retain), DELETE_FAILED
ROLLBACK_COMPLETE                                   DELETE_COMPLETE, DELETE_SKIPPED
CREATE_COMPLETE                                     CREATE_COMPLETE
UPDATE_IN_PROGRESS                                  CREATE_*/UPDATE_IN_PROGRESS, UPDATE_COMPLETE,
                                                    UPDATE_FAILED; removed ones keep their status
UPDATE_COMPLETE_CLEANUP_IN_PROGRESS                 removed ones DELETE_IN_PROGRESS,
                                                    DELETE_COMPLETE, DELETE_FAILED; replaced
                                                    ones show their new ID
UPDATE_COMPLETE                                     CREATE_COMPLETE, UPDATE_COMPLETE
UPDATE_ROLLBACK_IN_PROGRESS                         UPDATE_IN_PROGRESS, UPDATE_COMPLETE (back)
UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS        new ones DELETE_IN_PROGRESS, DELETE_COMPLETE
UPDATE_ROLLBACK_COMPLETE / UPDATE_ROLLBACK_FAILED   as the rollback left them
DELETE_IN_PROGRESS                                  DELETE_IN_PROGRESS, DELETE_COMPLETE,
                                                    DELETE_SKIPPED (Retain), DELETE_FAILED
DELETE_COMPLETE / DELETE_FAILED                     as the deletion left them
=================================================  ===============================================
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PROPERTY,
    ORGANIZATION_RESOURCE_TYPE,
    PAIR_RESOURCE_TYPE,
)
from rehearsal.assembly import ASSET_PATH_METADATA, FunctionSpec, StackTemplate, shares_of
from rehearsal.cloudformation import CloudFormation, Response
from rehearsal.cloudformation_reads import ResourceRow
from rehearsal.iam_check import RoleDirectory
from rehearsal.lambda_runtime import Invocation
from rehearsal.lambda_service import AsyncConfig, LambdaService
from rehearsal.local_aws import ACCOUNT_ID, REGION
from rehearsal.provisioning import PROVISIONED_TYPES, Provisioner

_SUB = re.compile(r"\$\{([^}]+)\}")
_RATE = re.compile(r"rate\((\d+) (minutes?|hours?|days?)\)")
_RATE_UNITS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
CLEANUP_DELETE_ATTEMPTS = 3
"""CloudFormation "attempts to delete the old resource three times", then removes it from the
stack and completes the update."""
DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
"""How long CloudFormation waits for a custom resource's answer without a ServiceTimeout."""
MAX_TARGET_INPUT_CHARS = 8192
"""EventBridge refuses a target whose Input is longer."""
# The property that names a resource, when the template sets it (its physical ID then).
_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Events::Rule": "Name",
}


def is_custom_resource(resource_type: str) -> bool:
    """Whether CloudFormation sends the resource's events to its ServiceToken."""
    return resource_type.startswith("Custom::") or (
        resource_type == "AWS::CloudFormation::CustomResource"
    )


NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"


# Where a deploy may start: a create (the CDK CLI deletes a ROLLBACK_COMPLETE stack first) or
# an update of a stack whose last operation completed.
DEPLOYABLE_STATUSES = frozenset(
    {
        "REVIEW_IN_PROGRESS",
        "DELETE_COMPLETE",
        "ROLLBACK_COMPLETE",
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
    }
)


class StackOperationRefused(RuntimeError):
    """CloudFormation refuses the operation in the stack's status."""


class DeployRefusal(Exception):
    """CloudFormation or the resource's service refuses the resource as declared."""


_clock = itertools.count()


def _timestamp() -> str:
    # Distinct per call, so that each stack operation has its own LastUpdatedTime.
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return (base + datetime.timedelta(seconds=next(_clock))).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class LiveResource:
    """A resource as the stack holds it now."""

    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    physical_id: str
    status: str
    declaration: dict[str, Any]
    timestamp: str = field(default_factory=_timestamp)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """Not being deleted, nor deleted (a ``DELETE_*`` status)."""
        return not self.status.startswith("DELETE_")

    @property
    def retain(self) -> bool:
        return bool(self.declaration.get("DeletionPolicy") == "Retain")


@dataclass(frozen=True)
class Step:
    """One event sent to a custom resource and the answer CloudFormation took."""

    request_type: str
    logical_id: str
    physical_id_sent: str | None
    response: Response
    stack_status: str

    def describe(self) -> str:
        answer = self.response
        text = f"{self.request_type} {self.logical_id} -> {answer.status} {answer.physical_id}"
        return f"{text} ({answer.reason})" if answer.reason else text


@dataclass
class _Outcome:
    kind: str  # "create" or "update"
    ok: bool
    physical_id: str
    old: LiveResource | None


def _dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    def refs(value: Any) -> Iterable[str]:
        if isinstance(value, dict):
            if isinstance(value.get("Ref"), str):
                yield value["Ref"]
            if isinstance(value.get("Fn::GetAtt"), list):
                yield value["Fn::GetAtt"][0]
            sub = value.get("Fn::Sub")
            text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) else ""
            for name in _SUB.findall(text):
                yield name.split(".")[0]
            for item in value.values():
                yield from refs(item)
        elif isinstance(value, list):
            for item in value:
                yield from refs(item)

    graph = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        names = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        names.update(refs(resource.get("Properties", {})))
        graph[logical_id] = {n for n in names if n in resources and n != logical_id}
    return graph


def _depended_on(graph: dict[str, set[str]], logical_id: str) -> set[str]:
    """Everything ``logical_id`` depends on, directly or not."""
    found: set[str] = set()
    pending = list(graph.get(logical_id, set()))
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(graph.get(name, set()))
    return found


def _waves(graph: dict[str, set[str]], nodes: Iterable[str]) -> list[list[str]]:
    """``nodes`` in dependency order: each wave depends only on earlier ones."""
    pending = set(nodes)
    waves = []
    while pending:
        wave = sorted(n for n in pending if not graph.get(n, set()) & pending)
        if not wave:
            raise ValueError(f"circular dependencies among {sorted(pending)}")
        waves.append(wave)
        pending -= set(wave)
    return waves


class StackEngine:
    """One stack: ``deploy(template)`` creates or updates it, ``delete()`` deletes it; each
    returns whether the operation succeeded. ``after_operation`` runs when one ends."""

    def __init__(
        self,
        name: str,
        *,
        lambda_service: LambdaService,
        channel: CloudFormation,
        roles: RoleDirectory,
        aws_environment: dict[str, str],
        max_parallel: int = 8,
        after_operation: Callable[[StackEngine], None] = lambda _: None,
        account_id: str = ACCOUNT_ID,
        provisioner: Provisioner | None = None,
        nested_stack: Callable[[str], StackEngine] | None = None,
    ) -> None:
        self.name = name
        self.account_id = account_id
        self.stack_id = f"arn:aws:cloudformation:{REGION}:{account_id}:stack/{name}/{uuid.uuid4()}"
        self.status = "REVIEW_IN_PROGRESS"
        self.created = _timestamp()
        self.last_updated = self.created
        self.resources: dict[str, LiveResource] = {}
        self.steps: list[Step] = []
        self.retained_pairs: set[tuple[str, str]] = set()
        self.images_seen: set[str] = set()
        """Every image a share of this stack was ever declared with (the invariant's scope)."""
        self.organization_images_seen: set[str] = set()
        """The images among them an organization share declared."""
        self.failed_cleanup: list[Step] = []
        """Every failed attempt of a cleanup Delete."""
        self.abandoned: list[LiveResource] = []
        """Resources (or old physical IDs of them) CloudFormation gave up deleting and removed
        from the stack."""
        self.peak_concurrency = 0
        self.max_parallel = max_parallel
        self.template: StackTemplate | None = None
        self._lambda = lambda_service
        self._channel = channel
        self._roles = roles
        self._aws_environment = aws_environment
        self._after_operation = after_operation
        self._lock = threading.RLock()
        self._functions: dict[str, FunctionSpec] = {}
        self._provisioner = provisioner
        self._nested_factory = nested_stack
        self.nested: dict[str, StackEngine] = {}
        """The stack of each AWS::CloudFormation::Stack resource, by logical ID."""
        self.parameter_values: dict[str, str] = {}
        """Parameters given to this stack (a nested stack's, by its parent)."""
        # Each live rule's schedule: when it was created, on the Lambda service's clock, and
        # how many times it has fired since.
        self._schedules: dict[str, tuple[float, int]] = {}

    # -- what the read API and the checks see ------------------------------------------------

    def resource_rows(self) -> list[ResourceRow]:
        """The resources as ListStackResources shows them."""
        with self._lock:
            return [
                ResourceRow(r.logical_id, r.physical_id, r.resource_type, r.status, r.timestamp)
                for r in self.resources.values()
            ]

    def declared_pairs(self) -> set[tuple[str, str]]:
        """(image, account) of every live share resource."""
        return {
            (str(r.properties.get(IMAGE_ID_PROPERTY)), str(r.properties.get(ACCOUNT_ID_PROPERTY)))
            for r in self.resources.values()
            if r.resource_type == PAIR_RESOURCE_TYPE and r.live
        }

    # -- intrinsics ------------------------------------------------------------------------

    def _arn(self, resource: LiveResource) -> str:
        kind, name, account = resource.resource_type, resource.physical_id, self.account_id
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{account}:role/{name}"
        if kind == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{REGION}:{account}:function:{name}"
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{account}:log-group:{name}:*"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"
        if kind == "AWS::Events::Rule":
            return f"arn:aws:events:{REGION}:{account}:rule/{name}"
        return f"arn:aws:stand-in:{REGION}:{account}:{name}"

    def _ref(self, name: str, template: StackTemplate) -> Any:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": self.account_id,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": self.stack_id,
            "AWS::StackName": self.name,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameter_values:
            return self.parameter_values[name]
        parameters = template.template.get("Parameters", {})
        if name in parameters:
            return parameters[name].get("Default", "")
        return self.resources[name].physical_id

    def _get_att(self, name: str, attribute: str) -> Any:
        resource = self.resources[name]
        if resource.resource_type == NESTED_STACK_TYPE and attribute.startswith("Outputs."):
            child = self.nested[name]
            assert child.template is not None
            output = child.template.template["Outputs"][attribute.removeprefix("Outputs.")]
            return child.resolve(output["Value"], child.template)
        if attribute == "Arn":
            return self._arn(resource)
        return resource.data.get(attribute, f"{resource.physical_id}.{attribute}")

    def resolve(self, value: Any, template: StackTemplate) -> Any:
        """``value`` with its intrinsic functions worked out against the live resources."""
        if isinstance(value, list):
            return [self.resolve(v, template) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument, template)
            if key == "Fn::GetAtt":
                return self._get_att(argument[0], argument[1])
            if key == "Fn::Join":
                return argument[0].join(str(self.resolve(p, template)) for p in argument[1])
            if key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]

                def one(match: re.Match[str]) -> str:
                    name, _, attribute = match.group(1).partition(".")
                    if attribute:
                        return str(self._get_att(name, attribute))
                    return str(self._ref(name, template))

                return _SUB.sub(one, text)
        return {k: self.resolve(v, template) for k, v in value.items()}

    # -- the function, its role, its asynchronous settings ---------------------------------

    def _function_spec(self, logical_id: str, template: StackTemplate) -> FunctionSpec:
        """What Lambda runs for ``logical_id``, its environment resolved (a table's Ref)."""
        spec = template.function(logical_id)
        environment = {k: str(self.resolve(v, template)) for k, v in spec.environment.items()}
        return dataclasses.replace(spec, environment=environment)

    def _role_documents(self, role_logical_id: str) -> list[dict[str, Any]]:
        with self._lock:
            role = self.resources.get(role_logical_id)
            if role is None or not role.live:
                return []
            documents = [p["PolicyDocument"] for p in role.properties.get("Policies", [])]
            for resource in self.resources.values():
                if (
                    resource.resource_type == "AWS::IAM::Policy"
                    and resource.live
                    and role.physical_id in resource.properties.get("Roles", [])
                ):
                    documents.append(resource.properties["PolicyDocument"])
            return documents

    def _credentials(self, function_logical_id: str, template: StackTemplate) -> dict[str, str]:
        role = template.template["Resources"][function_logical_id]["Properties"]["Role"]
        role_logical_id = role["Fn::GetAtt"][0]
        key = (
            "AKIA"
            + hashlib.sha256(f"{self.stack_id}/{role_logical_id}".encode()).hexdigest()[:16].upper()
        )
        self._roles.register(
            key,
            lambda: self._role_documents(role_logical_id),
            principal_arn=self._arn(self.resources[role_logical_id]),
        )
        return {**self._aws_environment, "AWS_ACCESS_KEY_ID": key}

    def _async_config(self, function_logical_id: str) -> AsyncConfig:
        with self._lock:
            function = self.resources[function_logical_id]
            for resource in self.resources.values():
                if (
                    resource.resource_type == "AWS::Lambda::EventInvokeConfig"
                    and resource.live
                    and resource.properties.get("FunctionName") == function.physical_id
                ):
                    return AsyncConfig(
                        int(resource.properties.get("MaximumRetryAttempts", 2)),
                        int(resource.properties.get("MaximumEventAgeInSeconds", 21600)),
                    )
        return AsyncConfig()

    # -- EventBridge ---------------------------------------------------------------------

    def rule_period_seconds(self, logical_id: str) -> float | None:
        """The schedule of a live, enabled rule (``rate(...)``), or None."""
        with self._lock:
            rule = self.resources.get(logical_id)
            if rule is None or rule.resource_type != "AWS::Events::Rule":
                return None
            if not rule.live or rule.properties.get("State") != "ENABLED":
                return None
            expression = str(rule.properties.get("ScheduleExpression", ""))
        match = _RATE.fullmatch(expression)
        if match is None:
            return None
        return float(match.group(1)) * _RATE_UNITS[match.group(2).rstrip("s")]

    def next_firings(self) -> dict[str, float]:
        """When each live, enabled rule fires next, by logical ID."""
        firings = {}
        for logical_id, (created, fired) in list(self._schedules.items()):
            period = self.rule_period_seconds(logical_id)
            if period is not None:
                firings[logical_id] = created + period * (fired + 1)
        return firings

    def fire_scheduled(self, logical_id: str) -> int:
        """The rule's scheduled firing: ``fire_rule``, counted in its schedule."""
        created, fired = self._schedules[logical_id]
        self._schedules[logical_id] = (created, fired + 1)
        return self.fire_rule(logical_id)

    def fire_rule(self, logical_id: str) -> int:
        """EventBridge's delivery of the rule's targets: each target function of this stack
        that an ``AWS::Lambda::Permission`` lets the rule invoke gets the target's exact Input,
        asynchronously. Returns how many targets were invoked."""
        assert self.template is not None
        rule = self.resources[logical_id]
        invoked = 0
        for target in rule.properties.get("Targets", []):
            function = next(
                (
                    r
                    for r in self.resources.values()
                    if r.resource_type == "AWS::Lambda::Function"
                    and r.live
                    and self._arn(r) == target.get("Arn")
                ),
                None,
            )
            if function is None or not self._permits(function, self._arn(rule)):
                continue  # EventBridge counts a FailedInvocation
            self._lambda.invoke_async(
                self._functions[function.logical_id],
                self._credentials(function.logical_id, self.template),
                self._async_config(function.logical_id),
                json.loads(target["Input"]),
            )
            invoked += 1
        return invoked

    def scheduled(self, text: str) -> bool:
        """Whether a live, enabled rule whose target Input holds ``text`` (a configuration ID)
        can invoke its function: the schedule that will run that configuration."""
        with self._lock:
            rules = [
                r
                for r in self.resources.values()
                if self.rule_period_seconds(r.logical_id) is not None
            ]
            functions = [
                r
                for r in self.resources.values()
                if r.resource_type == "AWS::Lambda::Function" and r.live
            ]
        return any(
            text in str(target.get("Input", ""))
            and any(
                self._arn(f) == target.get("Arn") and self._permits(f, self._arn(rule))
                for f in functions
            )
            for rule in rules
            for target in rule.properties.get("Targets", [])
        )

    def _permits(self, function: LiveResource, rule_arn: str) -> bool:
        with self._lock:
            return any(
                r.resource_type == "AWS::Lambda::Permission"
                and r.live
                and r.properties.get("Action") == "lambda:InvokeFunction"
                and r.properties.get("Principal") == "events.amazonaws.com"
                and r.properties.get("FunctionName") in (function.physical_id, self._arn(function))
                and r.properties.get("SourceArn", rule_arn) == rule_arn
                for r in self.resources.values()
            )

    # -- events ----------------------------------------------------------------------------

    def _send(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any],
        template: StackTemplate,
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Response:
        function_logical_id = next(
            r.logical_id
            for r in self.resources.values()
            if r.resource_type == "AWS::Lambda::Function"
            and self._arn(r) == properties["ServiceToken"]
        )
        event = self._channel.event(
            request_type,
            logical_id,
            {k: v for k, v in properties.items() if k != "ServiceTimeout"},
            physical_id=physical_id,
            old_properties=(
                {k: v for k, v in old_properties.items() if k != "ServiceTimeout"}
                if old_properties is not None
                else None
            ),
            stack_id=self.stack_id,
            service_token=properties["ServiceToken"],
            resource_type=self.resources[logical_id].resource_type,
        )
        answers: list[Response] = []
        sent_at = self._lambda.now
        service_timeout = float(properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_SECONDS))

        def answered(invocation: Invocation) -> None:
            response = self._channel.response(event, log=invocation.log)
            if self._lambda.now - sent_at > service_timeout:
                # CloudFormation stopped waiting at the ServiceTimeout; the answer is ignored.
                response = Response(
                    "FAILED",
                    physical_id or f"{self.name}-{logical_id}-timed-out",
                    f"no response within the ServiceTimeout ({service_timeout:.0f} s)",
                    {},
                    0,
                )
            answers.append(response)

        self._lambda.invoke_async(
            self._functions[function_logical_id],
            self._credentials(function_logical_id, template),
            self._async_config(function_logical_id),
            event,
            after_first=answered,
        )
        response = answers[0]
        with self._lock:
            self.steps.append(Step(request_type, logical_id, physical_id, response, self.status))
        return response

    def _set_status(self, resource: LiveResource, status: str) -> None:
        with self._lock:
            resource.status = status
            resource.timestamp = _timestamp()

    def _apply(
        self, logical_id: str, template: StackTemplate, old: LiveResource | None
    ) -> _Outcome:
        """Create or update one resource of ``template``."""
        declaration = template.template["Resources"][logical_id]
        properties = self.resolve(declaration.get("Properties", {}), template)
        kind = "create" if old is None else "update"
        progress = "CREATE_IN_PROGRESS" if old is None else "UPDATE_IN_PROGRESS"
        with self._lock:
            if old is None:
                resource = LiveResource(
                    logical_id, declaration["Type"], properties, "", progress, declaration
                )
                self.resources[logical_id] = resource
            else:
                resource = self.resources[logical_id]
                self._set_status(resource, progress)
        if is_custom_resource(declaration["Type"]):
            response = self._send(
                "Create" if old is None else "Update",
                logical_id,
                properties,
                template,
                physical_id=None if old is None else old.physical_id,
                old_properties=None if old is None else old.properties,
            )
            ok = response.status == "SUCCESS"
            with self._lock:
                if ok or old is None:
                    resource.physical_id = response.physical_id
                    resource.properties, resource.declaration = properties, declaration
                    resource.data = response.data
                self._set_status(resource, f"{kind.upper()}_{'COMPLETE' if ok else 'FAILED'}")
            return _Outcome(kind, ok, response.physical_id, old)
        try:
            self._make(resource, properties, old, template)
        except DeployRefusal as refusal:
            with self._lock:
                resource.data["StatusReason"] = str(refusal)
                self._set_status(resource, f"{kind.upper()}_FAILED")
            return _Outcome(kind, False, resource.physical_id, old)
        with self._lock:
            resource.properties, resource.declaration = properties, declaration
            if declaration["Type"] == "AWS::Lambda::Function":
                self._functions[logical_id] = self._function_spec(logical_id, template)
            if declaration["Type"] == "AWS::Events::Rule" and old is None:
                self._schedules[logical_id] = (self._lambda.now, 0)
            self._set_status(resource, f"{kind.upper()}_COMPLETE")
        return _Outcome(kind, True, resource.physical_id, old)

    def _make(
        self,
        resource: LiveResource,
        properties: dict[str, Any],
        old: LiveResource | None,
        template: StackTemplate,
    ) -> None:
        """Create or update a resource that is not a custom one: check it as its service
        would, make it in moto when it is one of the provisioned types, run a nested stack."""
        kind = resource.resource_type
        if kind == NESTED_STACK_TYPE:
            self._deploy_nested(resource, properties, template)
            return
        if kind == "AWS::Events::Rule":
            for target in properties.get("Targets", []):
                if len(str(target.get("Input", ""))) > MAX_TARGET_INPUT_CHARS:
                    raise DeployRefusal(
                        f"Target {target.get('Id')} Input is {len(target['Input'])} characters; "
                        f"EventBridge allows at most {MAX_TARGET_INPUT_CHARS}"
                    )
        if old is None:
            name = properties.get(_NAME_PROPERTIES.get(kind, ""))
            resource.physical_id = (
                str(name) if name else f"{self.name}-{resource.logical_id}-{uuid.uuid4().hex[:8]}"
            )
        if self._provisioner is None or kind not in PROVISIONED_TYPES:
            return
        if old is None:
            self._provisioner.create(kind, resource.physical_id, properties)
        else:
            self._provisioner.update(kind, resource.physical_id, old.properties, properties)

    # -- nested stacks (AWS::CloudFormation::Stack) --------------------------------------

    def _nested_template(
        self, declaration: dict[str, Any], template: StackTemplate
    ) -> StackTemplate:
        """The nested stack's template, from the assembly folder its asset metadata names."""
        path = template.outdir / declaration["Metadata"][ASSET_PATH_METADATA]
        nested = json.loads(path.read_text())
        return StackTemplate(path.stem, nested, template.outdir, shares_of(nested))

    def _deploy_nested(
        self, resource: LiveResource, properties: dict[str, Any], template: StackTemplate
    ) -> None:
        child = self.nested.get(resource.logical_id)
        if child is None:
            if self._nested_factory is None:
                raise DeployRefusal("this stand-in stack runs no nested stack")
            child = self._nested_factory(
                f"{self.name}-{resource.logical_id}-{uuid.uuid4().hex[:8]}"
            )
            self.nested[resource.logical_id] = child
        child.parameter_values = {
            str(k): str(v) for k, v in properties.get("Parameters", {}).items()
        }
        if not child.deploy(self._nested_template(resource.declaration, template)):
            raise DeployRefusal(f"nested stack {child.name} ended {child.status}")
        resource.physical_id = child.stack_id

    def _changed(self, logical_id: str, template: StackTemplate) -> bool:
        live = self.resources[logical_id]
        declaration = template.template["Resources"][logical_id]
        return bool(self.resolve(declaration.get("Properties", {}), template) != live.properties)

    def _delete(self, resource: LiveResource, physical_id: str, template: StackTemplate) -> bool:
        """Delete one resource (or one old physical ID of it); True on success."""
        if resource.resource_type == NESTED_STACK_TYPE:
            child = self.nested.get(resource.logical_id)
            return child is None or child.delete()
        if not is_custom_resource(resource.resource_type):
            if self._provisioner is not None and resource.resource_type in PROVISIONED_TYPES:
                self._provisioner.delete(resource.resource_type, physical_id, resource.properties)
            with self._lock:
                self._schedules.pop(resource.logical_id, None)
            return True
        response = self._send(
            "Delete", resource.logical_id, resource.properties, template, physical_id=physical_id
        )
        return response.status == "SUCCESS"

    def _run_waves(self, waves: list[list[str]], run: Callable[[str], bool]) -> bool:
        """Run each wave's resources at once; stop after a wave in which one failed."""
        with ThreadPoolExecutor(self.max_parallel) as pool:
            for wave in waves:
                shares = [n for n in wave if self._is_share(n)]
                self.peak_concurrency = max(self.peak_concurrency, len(shares))
                if not all(list(pool.map(run, wave))):
                    return False
        return True

    def _is_share(self, logical_id: str) -> bool:
        resource = self.resources.get(logical_id)
        if resource is not None:
            return resource.resource_type == PAIR_RESOURCE_TYPE
        return bool(
            self.template
            and self.template.template["Resources"].get(logical_id, {}).get("Type")
            == PAIR_RESOURCE_TYPE
        )

    # -- stack operations ------------------------------------------------------------------

    def deploy(self, template: StackTemplate, *, another_resource_fails: bool = False) -> bool:
        """Create the stack, or update it to ``template``. ``another_resource_fails`` plays a
        resource that fails once every other one is applied, so the operation rolls back."""
        if self.status not in DEPLOYABLE_STATUSES:
            raise StackOperationRefused(
                f"{self.name} is {self.status}: CloudFormation refuses an update"
                + (
                    " until ContinueUpdateRollback"
                    if self.status == "UPDATE_ROLLBACK_FAILED"
                    else ""
                )
            )
        creating = self.status in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE", "ROLLBACK_COMPLETE")
        if creating and self.status != "REVIEW_IN_PROGRESS":
            self.resources.clear()
        previous_template = self.template
        self.template = template
        self.images_seen |= {
            str(share.properties.get(IMAGE_ID_PROPERTY)) for share in template.shares.values()
        }
        organization_images = {
            str(self.resolve(r["Properties"].get(IMAGE_ID_PROPERTY), template))
            for r in template.template["Resources"].values()
            if r["Type"] == ORGANIZATION_RESOURCE_TYPE
        }
        self.images_seen |= organization_images
        self.organization_images_seen |= organization_images
        self.status = "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS"
        self.last_updated = _timestamp()
        before = {lid: copy.copy(r) for lid, r in self.resources.items()}
        declared = template.template["Resources"]
        graph = _dependencies(declared)
        outcomes: dict[str, _Outcome] = {}
        applied: list[str] = []

        def apply(logical_id: str) -> bool:
            old = before.get(logical_id)
            if old is not None and not self._changed(logical_id, template):
                if old.resource_type == "AWS::Lambda::Function":  # same code, this synthesis
                    self._functions[logical_id] = self._function_spec(logical_id, template)
                return True
            outcome = self._apply(logical_id, template, old)
            with self._lock:
                outcomes[logical_id] = outcome
                applied.append(logical_id)
            return outcome.ok

        succeeded = self._run_waves(_waves(graph, declared), apply)
        if succeeded and not another_resource_fails:
            self._cleanup(template, previous_template, before, outcomes, creating)
            return self._finish()
        if creating:
            self._roll_back_creation(template, applied)
        else:
            self._roll_back_update(template, previous_template, before, outcomes, applied)
        self._finish()
        return False

    def _cleanup(
        self,
        template: StackTemplate,
        previous: StackTemplate | None,
        before: dict[str, LiveResource],
        outcomes: dict[str, _Outcome],
        creating: bool,
    ) -> None:
        if creating:
            self.status = "CREATE_COMPLETE"
            return
        self.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        declared = template.template["Resources"]
        removed = [lid for lid in before if lid not in declared]
        replaced: dict[str, LiveResource | None] = {
            lid: outcome.old
            for lid, outcome in outcomes.items()
            if outcome.kind == "update"
            and outcome.old is not None
            and outcome.physical_id != outcome.old.physical_id
        }
        graph = _dependencies({**(previous.template["Resources"] if previous else {}), **declared})
        for wave in reversed(_waves(graph, [*removed, *replaced])):
            with ThreadPoolExecutor(self.max_parallel) as pool:
                list(pool.map(lambda lid: self._clean(lid, removed, replaced, template), wave))
        self.status = "UPDATE_COMPLETE"

    def _clean(
        self,
        logical_id: str,
        removed: list[str],
        replaced: dict[str, LiveResource | None],
        template: StackTemplate,
    ) -> None:
        if logical_id in replaced:
            old = replaced[logical_id]
            assert old is not None
            if old.declaration.get("UpdateReplacePolicy") == "Retain":
                self._retain(old)
            else:
                self._cleanup_delete(old, old.physical_id, template)
            return
        resource = self.resources[logical_id]
        if resource.retain:
            self._retain(resource)
            with self._lock:
                del self.resources[logical_id]
            return
        self._set_status(resource, "DELETE_IN_PROGRESS")
        self._cleanup_delete(resource, resource.physical_id, template)
        # Deleted, or given up on: either way the resource leaves the stack.
        self._set_status(resource, "DELETE_COMPLETE")

    def _cleanup_delete(
        self, resource: LiveResource, physical_id: str, template: StackTemplate
    ) -> bool:
        """A cleanup Delete, attempted ``CLEANUP_DELETE_ATTEMPTS`` times; True if one
        succeeded. Given up on, it is recorded in ``abandoned``."""
        for _ in range(CLEANUP_DELETE_ATTEMPTS):
            if self._delete(resource, physical_id, template):
                return True
            with self._lock:
                self.failed_cleanup.append(self.steps[-1])
        gone = copy.copy(resource)
        gone.physical_id = physical_id
        with self._lock:
            self.abandoned.append(gone)
        return False

    def _retain(self, resource: LiveResource) -> None:
        if resource.resource_type == PAIR_RESOURCE_TYPE:
            self.retained_pairs.add(
                (
                    str(resource.properties.get(IMAGE_ID_PROPERTY)),
                    str(resource.properties.get(ACCOUNT_ID_PROPERTY)),
                )
            )

    def _remove(self, logical_id: str, template: StackTemplate) -> bool:
        """Delete a live resource with its statuses, or skip it (DeletionPolicy Retain)."""
        resource = self.resources[logical_id]
        if resource.retain:
            self._retain(resource)
            self._set_status(resource, "DELETE_SKIPPED")
            return True
        self._set_status(resource, "DELETE_IN_PROGRESS")
        ok = self._delete(resource, resource.physical_id, template)
        self._set_status(resource, "DELETE_COMPLETE" if ok else "DELETE_FAILED")
        return ok

    def _roll_back_creation(self, template: StackTemplate, applied: list[str]) -> None:
        self.status = "ROLLBACK_IN_PROGRESS"
        graph = _dependencies(template.template["Resources"])
        for wave in reversed(_waves(graph, applied)):
            for logical_id in wave:
                self._remove(logical_id, template)
        failed = any(r.status == "DELETE_FAILED" for r in self.resources.values())
        self.status = "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE"

    def _roll_back_update(
        self,
        template: StackTemplate,
        previous: StackTemplate | None,
        before: dict[str, LiveResource],
        outcomes: dict[str, _Outcome],
        applied: list[str],
    ) -> None:
        assert previous is not None
        self.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        graph = _dependencies(template.template["Resources"])
        to_delete: list[tuple[LiveResource, str]] = []
        rollback_ok = True
        for wave in reversed(_waves(graph, applied)):
            for logical_id in wave:
                outcome = outcomes[logical_id]
                resource = self.resources[logical_id]
                if outcome.kind == "create":
                    to_delete.append((resource, resource.physical_id))
                    continue
                old = outcome.old
                assert old is not None
                if old.resource_type == NESTED_STACK_TYPE and logical_id in self.nested:
                    back = self._nested_template(old.declaration, previous)
                    rollback_ok = self.nested[logical_id].deploy(back) and rollback_ok
                if not is_custom_resource(resource.resource_type):
                    if self._provisioner is not None and old.resource_type in PROVISIONED_TYPES:
                        self._provisioner.update(
                            old.resource_type, old.physical_id, resource.properties, old.properties
                        )
                    with self._lock:
                        self.resources[logical_id] = copy.copy(old)
                        if old.resource_type == "AWS::Lambda::Function":
                            self._functions[logical_id] = self._function_spec(logical_id, previous)
                    continue
                if not outcome.ok and outcome.physical_id not in ("", old.physical_id):
                    # Its answer carried a new ID: treated as replaced, that ID is deleted.
                    to_delete.append((copy.copy(resource), outcome.physical_id))
                    with self._lock:
                        self.resources[logical_id] = copy.copy(old)
                    continue
                self._set_status(resource, "UPDATE_IN_PROGRESS")
                sent_id = outcome.physical_id if outcome.ok else old.physical_id
                new_properties = resource.properties
                response = self._send(
                    "Update",
                    logical_id,
                    old.properties,
                    previous,
                    physical_id=sent_id,
                    old_properties=new_properties,
                )
                if response.status != "SUCCESS":
                    rollback_ok = False
                    self._set_status(resource, "UPDATE_FAILED")
                    continue
                if sent_id != response.physical_id:
                    to_delete.append((copy.copy(resource), sent_id))
                with self._lock:
                    resource.properties = old.properties
                    resource.declaration = old.declaration
                    resource.physical_id = response.physical_id
                    resource.data = response.data
                self._set_status(resource, "UPDATE_COMPLETE")
        if not rollback_ok:
            self.status = "UPDATE_ROLLBACK_FAILED"
            return
        self.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        for resource, physical_id in to_delete:
            created = self.resources.get(resource.logical_id) is resource
            if created:
                self._set_status(resource, "DELETE_IN_PROGRESS")
            self._cleanup_delete(resource, physical_id, template)
            if created:
                self._set_status(resource, "DELETE_COMPLETE")
        self.template = previous
        self.status = "UPDATE_ROLLBACK_COMPLETE"

    def delete(self) -> bool:
        """Delete the stack; resources with DeletionPolicy Retain get no event."""
        assert self.template is not None
        self.status = "DELETE_IN_PROGRESS"
        self.last_updated = _timestamp()
        template = self.template
        graph = _dependencies(template.template["Resources"])
        live = [lid for lid in self.resources if lid in graph]
        needed: set[str] = set()  # what a resource that failed to delete depends on stays
        for wave in reversed(_waves(graph, live)):
            wave = [lid for lid in wave if lid not in needed]
            with ThreadPoolExecutor(self.max_parallel) as pool:
                results = list(pool.map(lambda lid: self._remove(lid, template), wave))
            for logical_id, removed in zip(wave, results, strict=True):
                if not removed:
                    needed |= _depended_on(graph, logical_id)
        ok = all(r.status != "DELETE_FAILED" for r in self.resources.values())
        self.status = "DELETE_COMPLETE" if ok else "DELETE_FAILED"
        return self._finish() and ok

    def _finish(self) -> bool:
        with self._lock:
            for logical_id in [
                lid
                for lid, r in self.resources.items()
                if r.status in ("DELETE_COMPLETE", "DELETE_SKIPPED")
            ]:
                del self.resources[logical_id]
        self._after_operation(self)
        return True
