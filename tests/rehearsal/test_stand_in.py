"""The stand-in's own behaviour, apart from the scenarios: what a refused connection leaves in
its log, and Organizations answering as it does today."""

from __future__ import annotations

import json
import logging
import time

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from rehearsal import sts_strict
from rehearsal.faults import Fault
from rehearsal.local_aws import LocalAws
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
