"""The Lambda asset: the handler folder as it is, with crhelper vendored in it.

No bundling at synth: the folder already holds everything the function imports besides the
boto3 the Lambda runtime provides (``scripts/vendor-crhelper`` refreshes crhelper).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER = "index.handler"
# Left out of the asset: bytecode a local run leaves behind, and crhelper's type stubs.
_NOT_SHIPPED = ["__pycache__", "*.pyc", "*.pyi", "py.typed"]


def handler_code() -> lambda_.Code:
    """Code for the sharing function: the handler folder; its hash follows the files."""
    return lambda_.Code.from_asset(str(HANDLER_DIR), exclude=_NOT_SHIPPED)


def handler_module_names() -> list[str]:
    """The handler's own top-level modules, as Lambda imports them (``index``, …)."""
    return sorted(module.stem for module in HANDLER_DIR.glob("*.py"))
