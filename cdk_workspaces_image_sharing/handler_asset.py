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
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi")


@jsii.implements(ILocalBundling)
class _CopyHandlerAndCrhelper:
    """Copies the handler's modules and the installed crhelper package into the asset."""

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        shutil.copytree(HANDLER_DIR, output_dir, ignore=_IGNORED, dirs_exist_ok=True)
        crhelper_dir = Path(crhelper.__file__).parent
        shutil.copytree(
            crhelper_dir, Path(output_dir) / "crhelper", ignore=_IGNORED, dirs_exist_ok=True
        )
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
