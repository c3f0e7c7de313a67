"""A pip-installed copy ships the handler and synthesizes from outside the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rehearsal.assembly import PROJECT_DIR, cdk_environment

SYNTH_ONE_SHARE = """
import aws_cdk as cdk, cdk_workspaces_image_sharing as lib, sys
print(lib.__file__)
app = cdk.App(outdir=sys.argv[1], context={"aws:cdk:enable-asset-metadata": True})
stack = cdk.Stack(app, "Installed")
lib.WorkspaceImagePermission(
    stack, "S", image_id="wsi-0123456789", shared_account_id="111122223333"
)
app.synth()
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(outdir), "."],
        cwd=PROJECT_DIR,
        check=True,
    )
    (built,) = outdir.glob("*.whl")
    return built


def test_wheel_ships_the_handler_and_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = "cdk_workspaces_image_sharing"
    for name in (
        "handler/index.py",
        "handler/share.py",
        "handler/image_permissions.py",
        "py.typed",
    ):
        assert f"{package}/{name}" in names
    assert not any(name.startswith(("rehearsal/", "tests/")) for name in names)


def test_installed_copy_synthesizes_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    env = {**cdk_environment(), "PYTHONPATH": str(target)}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", SYNTH_ONE_SHARE, str(tmp_path / "out")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(target))
    template = json.loads((tmp_path / "out" / "Installed.template.json").read_text())
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    asset = tmp_path / "out" / function["Metadata"]["aws:asset:path"]
    assert (asset / "index.py").is_file() and (asset / "crhelper").is_dir()
