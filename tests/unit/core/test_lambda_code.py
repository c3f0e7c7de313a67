"""Each function's asset carries the runtime bytecode only where it is current."""

from __future__ import annotations

import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImagePermission
from cdk_workspaces_image_sharing.core import lambda_code
from tests.support.lambda_assets import bytecode_files, runtime_bytecode_for

ENTRY_BYTECODE = f"sharing_functions/pair/__pycache__/entry.{lambda_code.BYTECODE_TAG}.pyc"
CONTRACT = "sharing_functions/contract.py"


def _pair_asset(outdir: Path) -> Path:
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "One")
    WorkspaceImagePermission(stack, "Share", image_id="wsi-0abc12345", shared_account_id="1" * 12)
    template = app.synth().get_stack_by_name("One").template
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    return outdir / str(function["Metadata"]["aws:asset:path"])


@pytest.fixture
def runtime_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the asset root that the constructs package instead of the installed one."""
    copy = tmp_path / "runtime"
    shutil.copytree(lambda_code.RUNTIME_DIR, copy)
    monkeypatch.setattr(lambda_code, "RUNTIME_DIR", copy)
    return copy


def test_bytecode_an_installer_rewrote_in_timestamp_mode_is_left_out(
    runtime_copy: Path, tmp_path: Path
) -> None:
    # What pip on Python 3.13 writes over it: flags 0, the source's mtime and size.
    rewritten = runtime_copy / ENTRY_BYTECODE
    rewritten.write_bytes(rewritten.read_bytes()[:4] + bytes(12) + rewritten.read_bytes()[16:])
    asset = _pair_asset(tmp_path / "out")
    assert bytecode_files(asset) == runtime_bytecode_for(asset) - {ENTRY_BYTECODE}
    assert (asset / "sharing_functions/pair/entry.py").is_file()


def test_bytecode_of_an_edited_module_is_left_out(runtime_copy: Path, tmp_path: Path) -> None:
    with (runtime_copy / CONTRACT).open("a") as module:
        module.write("# edited\n")
    asset = _pair_asset(tmp_path / "out")
    stale = f"sharing_functions/__pycache__/contract.{lambda_code.BYTECODE_TAG}.pyc"
    assert bytecode_files(asset) == runtime_bytecode_for(asset) - {stale}
