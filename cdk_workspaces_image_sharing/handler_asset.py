"""The Lambda asset: the handler modules and crhelper, bundled locally (no Docker, no network)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import crhelper
import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER = "index.handler"


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
        _copy_modules(Path(crhelper.__file__).parent, Path(output_dir) / "crhelper")
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
