"""The Lambda package's modules: in the source tree, in a synthesized asset, and what each
function's asset should hold."""

from __future__ import annotations

from pathlib import Path

from cdk_workspaces_image_sharing.core.lambda_code import (
    BYTECODE_TAG,
    PACKAGE,
    RUNTIME_DIR,
    LambdaFunctionCode,
)


def package_modules(root: Path) -> set[str]:
    """The dotted names of the ``sharing_functions`` modules under ``root`` (the asset root, or
    a synthesized asset folder), a package by its own name (``sharing_functions.pair``)."""
    return {
        ".".join(module.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for module in (root / PACKAGE).rglob("*.py")
    }


def shipped_modules(code: LambdaFunctionCode) -> set[str]:
    """The modules of the source tree that ``code``'s asset should hold: all but the other
    functions' sub-packages."""
    others = [f"{PACKAGE}.{other.value}" for other in LambdaFunctionCode if other is not code]
    return {
        module
        for module in package_modules(RUNTIME_DIR)
        if not any(module == other or module.startswith(f"{other}.") for other in others)
    }


def bytecode_files(root: Path) -> set[str]:
    """Every ``.pyc`` under ``root``, relative to it."""
    return {str(path.relative_to(root)) for path in root.rglob("*.pyc")}


def runtime_bytecode_for(root: Path) -> set[str]:
    """The bytecode ``root`` should hold: one runtime ``.pyc`` for each of its modules, where
    Python 3.13 looks for it (``__pycache__/<module>.cpython-313.pyc``)."""
    return {
        str(module.parent.relative_to(root) / "__pycache__" / f"{module.stem}.{BYTECODE_TAG}.pyc")
        for module in root.rglob("*.py")
    }
