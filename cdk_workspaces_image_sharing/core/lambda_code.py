"""The Lambda code: one asset root holding the ``sharing_functions`` package and crhelper."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_lambda as lambda_

RUNTIME_DIR = Path(__file__).parent.parent / "runtime"
PACKAGE = "sharing_functions"
# Docker-style patterns, anchored at the asset root: the root's own ``__init__.py`` (it makes
# the folder importable by the constructs, and means nothing in Lambda), bytecode a local run
# leaves behind, and crhelper's type stubs.
_NOT_SHIPPED = ("__init__.py", "**/__pycache__", "**/*.pyc", "**/*.pyi", "**/py.typed")


class LambdaFunctionCode(StrEnum):
    """A function's sub-package of ``sharing_functions``; its entry point is ``entry.handler``."""

    PAIR = "pair"
    ORGANIZATION = "organization"

    @property
    def handler(self) -> str:
        """The function's Handler setting."""
        return f"{PACKAGE}.{self.value}.entry.handler"

    def asset(self) -> lambda_.Code:
        """The asset root without the other functions' sub-packages; its hash follows the
        files."""
        others = [f"{PACKAGE}/{other.value}" for other in LambdaFunctionCode if other is not self]
        return lambda_.Code.from_asset(
            str(RUNTIME_DIR), exclude=[*_NOT_SHIPPED, *others], ignore_mode=IgnoreMode.DOCKER
        )
