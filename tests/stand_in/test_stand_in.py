"""The stand-in's own behaviour, apart from the scenarios: what a refused connection leaves in
its log, Organizations and STS answering as they do today, the containers' virtual clock,
CloudFormation's ServiceTimeout and EventBridge's limit on a target's Input."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import time
from pathlib import Path

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from rehearsal import sts_strict
from rehearsal.assembly import FunctionSpec, StackTemplate
from rehearsal.faults import Fault
from rehearsal.lambda_runtime import LambdaRuntime
from rehearsal.local_aws import LocalAws
from rehearsal.scenario import Rehearsal
from rehearsal.stack_engine import MAX_TARGET_INPUT_CHARS, StackOperationRefused
from tests.support.organization_scene import Scene
from tests.support.organizations import build_sample_organization, reader_trust_policy


def test_a_refused_connection_leaves_no_server_error_behind(
    aws: LocalAws, image_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A newcomer reads the main job's whole output: werkzeug must not print a traceback for
    a connection the fault layer dropped on purpose."""
    aws.faults.inject(Fault("DescribeWorkspaceImagePermissions", "refuse"))
    with (
        caplog.at_level(logging.INFO, logger="werkzeug"),
        pytest.raises((ConnectionClosedError, EndpointConnectionError)),
    ):
        aws.client("workspaces").describe_workspace_image_permissions(ImageId=image_id)
    # The server thread would log right after the connection closed (the client has seen it).
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not _server_errors(caplog):
        time.sleep(0.05)
    assert not _server_errors(caplog), caplog.text


def _server_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "werkzeug" and r.levelno >= logging.ERROR]


def test_organizations_answers_accounts_with_state_only(aws: LocalAws) -> None:
    organizations = aws.client("organizations")
    sample = build_sample_organization(organizations, {"": 1, "Team": 2})
    listed = organizations.list_accounts_for_parent(ParentId=sample.ou_ids["Team"])["Accounts"]
    everyone = organizations.list_accounts()["Accounts"]
    one = organizations.describe_account(AccountId=listed[0]["Id"])["Account"]
    for account in [*listed, *everyone, one]:
        assert account["State"] == "ACTIVE" and "Status" not in account


def test_sts_refuses_a_missing_role_and_one_whose_trust_refuses_the_caller(aws: LocalAws) -> None:
    """moto assumes any role; the stand-in refuses as STS does, for callers it knows."""
    reader = "arn:aws:iam::123456789012:role/Reader"
    caller = "arn:aws:iam::123456789012:role/WorkspaceImageOrgShare-us-east-1-0a1b2c3d"
    assert sts_strict.refusal(reader, caller) is not None  # no such role
    trust = reader_trust_policy("123456789012", "WorkspaceImageOrgShare-")
    aws.client("iam").create_role(RoleName="Reader", AssumeRolePolicyDocument=json.dumps(trust))
    assert sts_strict.refusal(reader, caller) is None
    assert sts_strict.refusal(reader, "arn:aws:iam::123456789012:role/Other") is not None
    assert sts_strict.refusal(reader, "arn:aws:iam::999999999999:role/WorkspaceImageOrgShare-x")


HOUR = 3600.0

CLOCK_PROBE = """
import threading, time

def handler(event, context):
    left = context.get_remaining_time_in_millis
    timer = threading.Timer(left() / 1000 - 0.5, lambda: print("timer", left(), flush=True))
    timer.start()
    started = time.time()
    time.sleep(100)
    print("slept", round(time.time() - started), "left", round(left() / 1000), flush=True)
    time.sleep(5000)
    print("after the Timeout", flush=True)
"""


def test_a_container_sleeps_on_the_virtual_clock_and_stops_at_the_timeout(tmp_path: Path) -> None:
    """A 900 s Timeout runs out in a moment: sleeps skip ahead, stopping for a timer due on the
    way (crhelper's answer before the Timeout), and the invocation is stopped at the Timeout."""
    (tmp_path / "clock_probe.py").write_text(CLOCK_PROBE)
    spec = FunctionSpec("Probe", "clock_probe.handler", 900, {}, tmp_path)
    runtime = LambdaRuntime(spec, {})
    try:
        invocation = runtime.invoke({}, now=time.time() + 86_400)
    finally:
        runtime.close()
    assert invocation.outcome == "timeout", invocation.log
    lines = invocation.log.splitlines()
    assert lines[0] == "slept 100 left 800"
    timer = int(lines[1].split()[1])
    assert lines[1].startswith("timer") and 0 <= timer <= 500, lines
    assert "after the Timeout" not in invocation.log
    assert invocation.seconds >= 900 and invocation.ended_at >= time.time() + 86_400


def test_an_answer_after_the_service_timeout_fails_the_resource(
    rehearsal: Rehearsal, example_template: StackTemplate
) -> None:
    """CloudFormation waits no longer than ServiceTimeout, and ignores a later answer. (The
    template is altered so that a late start can pass it: the invariant is not checked.)"""
    template = copy.deepcopy(example_template.template)
    for resource in template["Resources"].values():
        if resource["Type"] == PAIR_RESOURCE_TYPE:
            resource["Properties"]["ServiceTimeout"] = "60"
    rehearsal.check_invariant = False
    rehearsal.lambda_service.late_first = lambda event: 120.0  # throttled, started late
    stack = rehearsal.stack()
    assert not stack.deploy(dataclasses.replace(example_template, template=template))
    assert stack.steps[0].response.status == "FAILED"
    assert "ServiceTimeout" in stack.steps[0].response.reason


def test_events_that_start_as_late_as_lambda_allows_are_still_answered_in_time(
    rehearsal: Rehearsal, example_template: StackTemplate
) -> None:
    """The function's MaximumEventAge plus its Timeout fit in the ServiceTimeout: an event
    that starts as late as Lambda lets it still gets its answer to CloudFormation in time."""
    rehearsal.lambda_service.late_first = lambda event: float("inf")  # capped at the age
    stack = rehearsal.stack()
    assert stack.deploy(example_template), [s.describe() for s in stack.steps]
    assert stack.delete()


def test_a_rule_input_over_8192_characters_is_refused_at_deploy(
    rehearsal: Rehearsal, tmp_path: Path
) -> None:
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": "rate(1 hour)",
            "State": "ENABLED",
            "Targets": [
                {
                    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "Id": "T",
                    "Input": "x" * (MAX_TARGET_INPUT_CHARS + 1),
                }
            ],
        },
    }
    stack = rehearsal.stack()
    assert not stack.deploy(StackTemplate("Rules", {"Resources": {"Rule": rule}}, tmp_path))
    assert stack.status == "ROLLBACK_COMPLETE"


@pytest.mark.parametrize(
    "status", ["UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_IN_PROGRESS"]
)
def test_a_stack_refuses_a_deploy_where_cloudformation_would(
    rehearsal: Rehearsal, example_template: StackTemplate, status: str
) -> None:
    stack = rehearsal.stack()
    assert stack.deploy(example_template)
    stack.status = status  # as a failed operation, or one still running, left it
    with pytest.raises(StackOperationRefused, match=status):
        stack.deploy(example_template)
    stack.status = "CREATE_COMPLETE"
    assert stack.delete()


def test_a_rule_made_again_fires_on_its_own_schedule(scene: Scene) -> None:
    """A stack deleted and created again makes its rule again: its schedule starts anew."""
    template = scene.app.sharing_for(scene.image_id, [scene.workloads])
    sharing = scene.deployed([scene.workloads])
    assert scene.run.advance(HOUR) == 1
    assert sharing.delete()
    assert sharing.deploy(template)
    assert scene.run.advance(HOUR) == 1
