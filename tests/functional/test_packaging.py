"""A user's install (the wheel and its declared dependencies, nothing else) synthesizes from
outside the checkout and ships the handler."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from cdk_workspaces_image_sharing.core.lambda_code import RUNTIME_DIR
from tests.support.lambda_assets import bytecode_files, package_modules, runtime_bytecode_for
from tests.support.user_install import UserInstall

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


def test_wheel_ships_the_handler_and_type_marker(user_install: UserInstall) -> None:
    names = set(zipfile.ZipFile(user_install.wheel).namelist())
    package = "cdk_workspaces_image_sharing"
    shipped = {f"runtime/{module.replace('.', '/')}.py" for module in package_modules(RUNTIME_DIR)}
    assert {f"runtime/{p}" for p in ("crhelper/__init__.py", "crhelper/resource_helper.py")} < {
        name.removeprefix(f"{package}/") for name in names
    }
    for name in [*shipped, "py.typed"]:
        assert f"{package}/{name}" in names or f"{package}/{name[:-3]}/__init__.py" in names
    assert not any(name.startswith(("rehearsal/", "tests/")) for name in names)
    # The organization function's Organizations model, with botocore's licence and notice.
    models = f"{package}/runtime/sharing_functions/organization/botocore_models"
    for name in ("organizations/2016-11-28/service-2.json.gz", "LICENSE.txt", "NOTICE"):
        assert f"{models}/{name}" in names


def test_users_install_synthesizes_from_another_folder(
    user_install: UserInstall, tmp_path: Path
) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = subprocess.run(
        [str(user_install.python), "-c", SYNTH_ONE_SHARE, str(tmp_path / "out")],
        cwd=workdir,
        env=user_install.environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(str(user_install.python.parent.parent))
    template = json.loads((tmp_path / "out" / "Installed.template.json").read_text())
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    asset = tmp_path / "out" / function["Metadata"]["aws:asset:path"]
    assert (asset / "sharing_functions" / "pair" / "entry.py").is_file()
    assert (asset / "crhelper" / "resource_helper.py").is_file()
    assert (asset / "crhelper" / "LICENSE").is_file()
    # The wheel's runtime bytecode survives the install (whose own Python's bytecode is not
    # shipped): one current .pyc for each module.
    assert bytecode_files(asset) == runtime_bytecode_for(asset)


def test_users_install_imports_the_handler_modules_without_node(user_install: UserInstall) -> None:
    """The package's lazy exports: importing a submodule that needs no CDK starts no Node."""
    result = subprocess.run(
        [
            str(user_install.python),
            "-c",
            "import sys\n"
            "import cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair\n"
            "assert 'aws_cdk' not in sys.modules and 'jsii' not in sys.modules",
        ],
        env=user_install.environment(with_node=False),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
