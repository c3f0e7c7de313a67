"""The Lambda asset: the handler folder as it is, with crhelper vendored in it.

No bundling at synth: the folder already holds everything the function imports besides the
boto3 the Lambda runtime provides (``scripts/vendor-crhelper`` refreshes crhelper).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER = "index.handler"
# Left out of every asset: bytecode a local run leaves behind, and crhelper's type stubs.
_NOT_SHIPPED = ("__pycache__", "*.pyc", "*.pyi", "py.typed")
# Modules only one of the two functions imports: each function's asset leaves out the other's.
PAIR_ONLY_MODULES = ("index.py",)
ORGANIZATION_ONLY_MODULES = (
    "organization_*.py",
    "share_ledger.py",
    "pacing.py",
    "botocore_models",
)


def handler_code(leave_out: tuple[str, ...] = ()) -> lambda_.Code:
    """Code for a sharing function: the handler folder without ``leave_out`` (glob patterns of
    the other function's modules); its hash follows the files."""
    return lambda_.Code.from_asset(str(HANDLER_DIR), exclude=[*_NOT_SHIPPED, *leave_out])


def handler_module_names(leave_out: tuple[str, ...] = ()) -> list[str]:
    """The handler's own top-level modules, as Lambda imports them (``index``, …), without
    those matching ``leave_out``."""
    return sorted(
        module.stem
        for module in HANDLER_DIR.glob("*.py")
        if not any(module.match(pattern) for pattern in leave_out)
    )
