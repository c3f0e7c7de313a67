"""Fixtures of the drift tests: the scenario's stacks on the local endpoint, and the command
run in-process with the endpoint's settings in its environment."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImagePermission
from rehearsal.assembly import StackTemplate
from rehearsal.local_aws import LocalAws
from rehearsal.scenario import Rehearsal
from tests.support.apps import synth
from tests.support.drift import (
    FAILED,
    FAILED_CREATE_ID,
    FIRST,
    GONE,
    PLACEHOLDER_IMAGE_ID,
    SECOND,
    A,
    B,
    C,
    D,
    Runner,
    Scenario,
    local_environment,
    run_command,
)
from tests.support.stacks import hand_set_stack


@pytest.fixture(scope="session")
def drift_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackTemplate, ...]:
    """The two apps' stacks, synthesized once with a placeholder image ID: the first shares
    with A (``ShareA``) and B (``ShareB``), the second with A (``Share``)."""

    def first(stack: cdk.Stack) -> None:
        for name, account in (("ShareA", A), ("ShareB", B)):
            WorkspaceImagePermission(
                stack, name, image_id=PLACEHOLDER_IMAGE_ID, shared_account_id=account
            )

    def second(stack: cdk.Stack) -> None:
        WorkspaceImagePermission(stack, "Share", image_id=PLACEHOLDER_IMAGE_ID, shared_account_id=A)

    return (
        synth(tmp_path_factory.mktemp("drift-first"), first),
        synth(tmp_path_factory.mktemp("drift-second"), second),
    )


@pytest.fixture
def environment(aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment points boto3 at the local endpoint, and at nothing else."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    settings = local_environment(aws, tmp_path)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def cli(environment: dict[str, str]) -> Runner:
    """Runs the command in-process: ``cli("report", "--all-stacks")``."""
    return run_command


@pytest.fixture
def scenario(
    rehearsal: Rehearsal, drift_templates: tuple[StackTemplate, ...], image_id: str
) -> Scenario:
    """The drift of tests/support/drift.py: A duplicate, B missing, C unmanaged, a failed
    Create's ID; and a deleted stack and a resource being deleted, which are skipped."""
    first_template, second_template = (
        t.with_values({PLACEHOLDER_IMAGE_ID: image_id}) for t in drift_templates
    )
    rehearsal.images.add(image_id)
    first = rehearsal.stack(FIRST)
    assert first.deploy(first_template)
    second = rehearsal.stack(SECOND)
    assert second.deploy(second_template)
    workspaces = rehearsal.aws.client("workspaces")
    workspaces.update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=False, SharedAccountId=B
    )
    workspaces.update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=True, SharedAccountId=C
    )
    # The stand-in rolls a failed Create back at once; a stack created with rollback disabled
    # keeps the resource, CREATE_FAILED, with the ID crhelper answered with.
    hand_set_stack(rehearsal.aws, FAILED, "CREATE_FAILED").hold(
        "Share", FAILED_CREATE_ID, "CREATE_FAILED"
    )
    gone = hand_set_stack(rehearsal.aws, GONE, "DELETE_COMPLETE")
    gone.hold("Share", f"{image_id}/{D}", "DELETE_COMPLETE")
    # A resource being deleted in a live stack is skipped too.
    hand_set_stack(rehearsal.aws, "DriftCleanup", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS").hold(
        "Old", f"{image_id}/{D}", "DELETE_IN_PROGRESS"
    )
    return Scenario(image_id, first, second, rehearsal.aws)
