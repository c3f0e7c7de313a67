"""The Lambda code: one asset root holding the ``sharing_functions`` package and crhelper."""

from __future__ import annotations

import _imp
from enum import StrEnum
from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_lambda as lambda_

RUNTIME_DIR = Path(__file__).parent.parent / "runtime"
PACKAGE = "sharing_functions"
# The functions' runtime, and the bytecode scripts/compile-runtime makes for it: CPython 3.13's
# cache tag and magic number, and the flags of checked-hash bytecode (hash-based, checked).
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
BYTECODE_TAG = "cpython-313"
_BYTECODE_MAGIC = b"\xf3\r\r\n"
_CHECKED_HASH_FLAGS = (3).to_bytes(4, "little")
# Docker-style patterns, anchored at the asset root, later ones overriding earlier ones: the
# root's own ``__init__.py`` (it makes the folder importable by the constructs, and means
# nothing in Lambda) and its bytecode, crhelper's type stubs, and all bytecode but the runtime's
# that scripts/compile-runtime makes (docs/design.md, "Bytecode").
_NOT_SHIPPED = (
    "__init__.py",
    "**/*.pyc",
    f"!**/__pycache__/*.{BYTECODE_TAG}.pyc",
    "__pycache__",
    "**/*.pyi",
    "**/py.typed",
)


def _not_current_bytecode() -> list[str]:
    """The runtime bytecode files that are not checked-hash bytecode of their module as it is
    now: an install by Python 3.13 rewrites them in its own (timestamp) mode, and an edited
    module outdates them. Left out of the assets, those modules compile at cold start, and no
    asset's hash depends on when or where the package was installed."""
    key = int.from_bytes(_BYTECODE_MAGIC, "little")
    left_out = []
    for bytecode in sorted(RUNTIME_DIR.glob(f"**/__pycache__/*.{BYTECODE_TAG}.pyc")):
        source = bytecode.parent.parent / f"{bytecode.name.split('.')[0]}.py"
        current = source.is_file() and bytecode.read_bytes()[:16] == (
            _BYTECODE_MAGIC + _CHECKED_HASH_FLAGS + _imp.source_hash(key, source.read_bytes())
        )
        if not current:
            left_out.append(str(bytecode.relative_to(RUNTIME_DIR)))
    return left_out


class LambdaFunctionCode(StrEnum):
    """A function's sub-package of ``sharing_functions``; its entry point is ``entry.handler``."""

    PAIR = "pair"
    ORGANIZATION = "organization"

    @property
    def handler(self) -> str:
        """The function's Handler setting."""
        return f"{PACKAGE}.{self.value}.entry.handler"

    def asset(self) -> lambda_.Code:
        """The asset root without the other functions' sub-packages, with the runtime bytecode
        of each module that has current bytecode; its hash follows the files."""
        others = [f"{PACKAGE}/{other.value}" for other in LambdaFunctionCode if other is not self]
        return lambda_.Code.from_asset(
            str(RUNTIME_DIR),
            exclude=[*_NOT_SHIPPED, *_not_current_bytecode(), *others],
            ignore_mode=IgnoreMode.DOCKER,
        )
