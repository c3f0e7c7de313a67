"""Bad input and the usual AWS errors: one line on stderr, no traceback, exit 2; refusals of
one pair during a repair: exit 1."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from cdk_workspaces_image_sharing.drift import aws as drift_aws
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import LEDGER_LOGICAL_ID_PREFIX
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATION_RESOURCE_TYPE as ORGANIZATION_TYPE,
)
from rehearsal.faults import Fault
from rehearsal.local_aws import LocalAws
from tests.support.drift import A, B, Runner, run_command
from tests.support.ledger import create_ledger_table
from tests.support.stacks import hand_set_stack
from tests.support.values import DESCRIBE, GRANT

PROG = "workspace-image-shares: error: "


def one_line_error(run_err: str) -> str:
    assert run_err.startswith(PROG) and run_err.endswith("\n"), run_err
    assert run_err.count("\n") == 1 and "Traceback" not in run_err, run_err
    return run_err[len(PROG) : -1]


@pytest.mark.parametrize("command", ["report", "repair"])
def test_unknown_stack(cli: Runner, command: str) -> None:
    run = cli(command, "--stack", "NoSuchStack")
    assert run.code == 2
    assert one_line_error(run.err) == "no such stack: NoSuchStack (in us-east-1)"
    assert run.out == ""


def test_no_credentials(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    run = cli("report", "--all-stacks")
    assert run.code == 2
    assert one_line_error(run.err).startswith("no AWS credentials found: pass --profile")


def test_no_region_and_unknown_profile(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    run = cli("report", "--all-stacks")
    assert (run.code, one_line_error(run.err)) == (
        2,
        "no AWS Region: pass --region or set AWS_REGION",
    )
    run = cli("report", "--all-stacks", "--profile", "nobody")
    assert run.code == 2
    assert one_line_error(run.err).startswith("The config profile (nobody) could not be found")


def test_access_denied(aws: LocalAws, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    only_workspaces = [{"Effect": "Allow", "Action": "workspaces:*", "Resource": "*"}]
    only_cloudformation = [{"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"}]
    for key, statements in (
        ("AKIADRIFTWORKSPACES", only_workspaces),
        ("AKIADRIFTSTACKS0000", only_cloudformation),
    ):
        document = {"Version": "2012-10-17", "Statement": statements}
        aws.faults.roles.register(key, lambda document=document: [document])  # type: ignore[misc]
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"wsi-0imagedrift/{A}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADRIFTWORKSPACES")
    run = cli("report", "--all-stacks")
    assert run.code == 2
    assert one_line_error(run.err) == (
        "access denied: ListStacks: not authorized to perform cloudformation:ListStacks on *"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADRIFTSTACKS0000")
    run = cli("report", "--stack", "Declares")
    assert run.code == 2
    assert one_line_error(run.err).startswith(
        "access denied: DescribeWorkspaceImagePermissions: not authorized to perform "
        "workspaces:DescribeWorkspaceImagePermissions on arn:aws:workspaces:"
    )


def test_throttled_past_the_retries(
    aws: LocalAws, image_id: str, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        drift_aws, "CLIENT_SETTINGS", replace(drift_aws.CLIENT_SETTINGS, max_attempts=2)
    )
    aws.faults.inject(Fault("ListStacks", "throttle", times=2))
    run = cli("report", "--all-stacks")
    assert run.code == 2
    assert one_line_error(run.err) == (
        "throttled: ListStacks was still throttled after 2 attempts; try again later"
    )
    assert aws.faults.throttled["ListStacks"] == 2
    # A repair stops at a grant throttled past the retries, and says so.
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"{image_id}/{A}")
    aws.faults.inject(Fault(GRANT, "throttle", times=2))
    run = cli("repair", "--stack", "Declares")
    assert run.code == 2
    assert one_line_error(run.err).startswith("throttled: UpdateWorkspaceImagePermission")


def test_throttling_within_the_retries_is_invisible(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"{image_id}/{A}")
    aws.faults.inject(
        Fault("ListStackResources", "throttle"),
        Fault(DESCRIBE, "throttle"),
        Fault(GRANT, "throttle"),
    )
    run = cli("repair", "--stack", "Declares")
    assert (run.code, run.err) == (0, "")
    assert aws.shared_accounts(image_id) == {A}
    assert sum(aws.faults.throttled.values()) == 3


def test_endpoint_out_of_reach(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        drift_aws, "CLIENT_SETTINGS", replace(drift_aws.CLIENT_SETTINGS, max_attempts=1)
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
    run = cli("report", "--all-stacks")
    assert run.code == 2
    assert one_line_error(run.err).startswith("could not reach AWS: ")


def test_a_refused_grant_is_reported_and_left_to_fix(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    stack = hand_set_stack(aws, "Declares", "UPDATE_COMPLETE")
    stack.hold("ShareA", f"{image_id}/{A}")
    stack.hold("ShareB", f"{image_id}/{B}")
    aws.faults.inject(
        Fault(GRANT, "error", error_code="OperationNotSupportedException", body_contains=A)
    )
    run = cli("repair", "--stack", "Declares", "--json")
    assert run.code == 1
    assert [(a["account_id"], a["result"], a["error"]) for a in run.json()["actions"]] == [
        (A, "failed", "OperationNotSupportedException: injected OperationNotSupportedException"),
        (B, "done", None),
    ]
    assert aws.shared_accounts(image_id) == {B}
    assert "failed: grant" in run.err


def test_an_image_that_does_not_exist(aws: LocalAws, cli: Runner) -> None:
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"wsi-0nosuchimage/{A}")
    report = cli("report", "--stack", "Declares", "--json")
    assert report.code == 1
    assert report.json()["images_not_found"] == ["wsi-0nosuchimage"]
    assert [row["state"] for row in report.json()["rows"]] == ["missing"]
    repair = cli("repair", "--stack", "Declares")
    assert repair.code == 1
    assert "cannot grant wsi-0nosuchimage/111122223333: image wsi-0nosuchimage does not exist" in (
        repair.out
    )


def test_bad_options(cli: Runner) -> None:
    for argv, message in (
        (["report"], "one of the arguments --stack --all-stacks is required"),
        (["report", "--stack", "S", "--all-stacks"], "not allowed with argument"),
        (["report", "--all-stacks", "--ignore-account", "1234"], "is not an AWS account ID"),
        (["report", "--all-stacks", "--yes"], "unrecognized arguments: --yes"),
    ):
        run = cli(*argv)
        assert run.code == 2
        assert message in run.err


def test_the_environment_argument_overrides_the_process_environment(
    aws: LocalAws, image_id: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """What the main job calls: no AWS setting in os.environ, the endpoint's passed in."""
    for name in [*aws.environment, "AWS_PROFILE", "AWS_ENDPOINT_URL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"{image_id}/{A}")
    run = run_command("repair", "--stack", "Declares", environment=aws.environment)
    assert (run.code, run.err) == (0, "")
    run = run_command("report", "--stack", "Declares", environment=aws.environment)
    assert (run.code, run.out.splitlines()[-1]) == (0, "In sync: 1 ok.")


def test_a_ledger_read_that_is_denied_is_one_line_and_exit_2(
    aws: LocalAws, image_id: str, cli: Runner
) -> None:
    """An organization share's ledger is read with dynamodb:Query (docs/drift.md): denied, it
    is an error (2), not drift (1) a pipeline might repair."""
    stack = hand_set_stack(aws, "OrganizationStack", "UPDATE_COMPLETE")
    stack.hold(
        "Workloads", f"{image_id}/organization/0123456789abcdef", resource_type=ORGANIZATION_TYPE
    )
    stack.hold(
        f"{LEDGER_LOGICAL_ID_PREFIX}0A1B2C3D",
        create_ledger_table(aws.client("dynamodb")),
        "CREATE_COMPLETE",
        resource_type="AWS::DynamoDB::Table",
    )
    aws.faults.inject(Fault("Query", "error", error_code="AccessDeniedException"))
    run = cli("report", "--stack", stack.name)
    assert run.code == 2, run.err
    assert one_line_error(run.err).startswith("access denied: Query: ")
    assert run.out == ""


def test_the_region_may_come_from_aws_region_alone(
    aws: LocalAws, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the AWS CLI v2 reads it (boto3 reads only AWS_DEFAULT_REGION)."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert "AWS_REGION" in os.environ
    run = cli("report", "--all-stacks", "--json")
    assert run.code == 0, run.err
    assert run.json()["region"] == os.environ["AWS_REGION"]
