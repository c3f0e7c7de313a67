"""The Lambda asset: the handler modules and crhelper, bundled locally (no Docker, no network)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER = "index.handler"


def crhelper_dir() -> Path:
    """The installed crhelper package's folder, found without importing it (crhelper imports
    boto3, which synthesis does not need)."""
    spec = importlib.util.find_spec("crhelper")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("crhelper is not installed: reinstall cdk-workspaces-image-sharing")
    return Path(next(iter(spec.submodule_search_locations)))


def _copy_modules(source: Path, target: Path) -> None:
    # Only the modules: caches, stubs and tool output in the folder must not ship.
    target.mkdir(parents=True, exist_ok=True)
    for module in sorted(source.glob("*.py")):
        shutil.copy2(module, target / module.name)


@jsii.implements(ILocalBundling)
class _CopyHandlerAndCrhelper:
    """Copies the handler's modules and the installed crhelper package's into the asset."""

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        _copy_modules(HANDLER_DIR, Path(output_dir))
        _copy_modules(crhelper_dir(), Path(output_dir) / "crhelper")
        return True


def handler_code() -> lambda_.Code:
    """Code for the sharing function. The asset hash follows the bundled output, so a new
    crhelper release changes it; boto3 is left out because the Lambda runtime provides it."""
    return lambda_.Code.from_asset(
        str(HANDLER_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds, so Docker is not used.
            image=DockerImage.from_registry("local-bundling-only"),
            # jsii passes the options positionally, unlike the keyword-only stub.
            local=cast(ILocalBundling, _CopyHandlerAndCrhelper()),
        ),
    )


def handler_module_names() -> list[str]:
    """The handler's top-level modules, as Lambda imports them (``index``, ``share``, …)."""
    return sorted(module.stem for module in HANDLER_DIR.glob("*.py"))
