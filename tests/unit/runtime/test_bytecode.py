"""The Lambda package's bytecode (scripts/compile-runtime) is current for the functions'
runtime, and their cold start imports it instead of compiling the modules."""

from __future__ import annotations

import functools
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from cdk_workspaces_image_sharing.core.lambda_code import (
    BYTECODE_TAG,
    RUNTIME_DIR,
    LambdaFunctionCode,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import LEDGER_TABLE_ENV
from rehearsal.lambda_python import lambda_python
from tests.support.lambda_assets import bytecode_files, runtime_bytecode_for

SHIPPED_ROOTS = ("sharing_functions", "crhelper")


@functools.cache
def _cache_tag(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _runtime() -> tuple[Path, Path | None]:
    python, sdk = lambda_python()
    tag = _cache_tag(python)
    if tag != BYTECODE_TAG:
        pytest.skip(f"needs the functions' runtime ({BYTECODE_TAG}); found {tag}")
    return python, sdk


def _in_runtime(script: str, *args: str) -> object:
    """The JSON that ``script`` prints, run as Lambda runs the function: Python 3.13 without
    site-packages, the SDK (``sys.argv[1]``) on its path, no bytecode written."""
    python, sdk = _runtime()
    if sdk is None:
        pytest.skip("needs .venv-lambda's SDK (bash scripts/setup)")
    result = subprocess.run(
        [str(python), "-S", "-c", textwrap.dedent(script), str(sdk), *args],
        capture_output=True,
        text=True,
        env={"PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_each_module_has_bytecode_and_no_bytecode_is_left_over() -> None:
    for root in SHIPPED_ROOTS:
        folder = RUNTIME_DIR / root
        runtime = {p for p in bytecode_files(folder) if BYTECODE_TAG in p}
        assert runtime == runtime_bytecode_for(folder), "run bash scripts/compile-runtime"


def test_the_bytecode_is_checked_hash_of_the_current_source() -> None:
    # A checked-hash .pyc carries the source's hash: the runtime uses it only while the source
    # is unchanged (a stale one is ignored, never run), and a timestamp would not survive the
    # asset's zip. Flags 0b11: hash-based, checked.
    stale = _in_runtime(
        """
        import importlib.util, json, marshal, pathlib, sys
        stale = []
        for root in sys.argv[3:]:
            for source in sorted((pathlib.Path(sys.argv[2]) / root).rglob("*.py")):
                cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
                want = (
                    importlib.util.MAGIC_NUMBER + (3).to_bytes(4, "little")
                    + importlib.util.source_hash(source.read_bytes())
                )
                data = cached.read_bytes() if cached.is_file() else b""
                relative = str(source.relative_to(sys.argv[2]))
                # The recorded name starts at the asset root (compiled with -s), so the bytes
                # are the same in every clone; a 3.13 run that rewrote the file records its path.
                if data[:16] != want or marshal.loads(data[16:]).co_filename != relative:
                    stale.append(relative)
        print(json.dumps(stale))
        """,
        str(RUNTIME_DIR),
        *SHIPPED_ROOTS,
    )
    assert stale == [], "run bash scripts/compile-runtime"


@pytest.mark.parametrize("code", list(LambdaFunctionCode))
def test_a_cold_start_compiles_none_of_the_functions_modules(code: LambdaFunctionCode) -> None:
    compiled = _in_runtime(
        """
        import importlib.machinery, importlib, json, os, sys
        sdk, root, module, ledger_variable = sys.argv[1:]
        sys.path[:0] = [root, sdk]
        os.environ[ledger_variable] = "ledger"
        compiled = []
        to_code = importlib.machinery.SourceFileLoader.source_to_code
        def recording(self, data, path, *args, **kwargs):
            compiled.append(os.path.relpath(path, root))
            return to_code(self, data, path, *args, **kwargs)
        importlib.machinery.SourceFileLoader.source_to_code = recording
        importlib.import_module(module)
        print(json.dumps([p for p in compiled if not p.startswith("..")]))
        """,
        str(RUNTIME_DIR),
        code.handler.rsplit(".", 1)[0],
        LEDGER_TABLE_ENV,
    )
    assert compiled == [], "run bash scripts/compile-runtime"
