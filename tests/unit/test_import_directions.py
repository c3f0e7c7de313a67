"""The import directions hold: import-linter's contracts (pyproject.toml), and the Lambda
package's own allow-list, which import-linter cannot express."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from cdk_workspaces_image_sharing.core.lambda_code import PACKAGE, RUNTIME_DIR

PROJECT_DIR = Path(__file__).parents[2]
# What Lambda provides besides the asset; the stubs are read by mypy only (TYPE_CHECKING).
LAMBDA_IMPORTABLE = {"boto3", "botocore", "crhelper"}


def test_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def _outside_type_checking(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped
    ]


def test_the_lambda_package_imports_only_the_standard_library_the_sdk_crhelper_and_itself() -> None:
    strays = []
    for module in sorted((RUNTIME_DIR / PACKAGE).rglob("*.py")):
        for node in _outside_type_checking(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # itself, relatively
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                top = str(name).split(".")[0]
                if top not in sys.stdlib_module_names and top not in LAMBDA_IMPORTABLE:
                    strays.append(f"{module.relative_to(RUNTIME_DIR)}:{node.lineno} {name}")
    assert strays == []
