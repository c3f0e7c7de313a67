"""The interpreter and SDK the rehearsal runs the function with, as close to Lambda's as here.

The function's runtime is Python 3.13, whose SDK may be older than the one the project
develops with: the set-up makes ``.venv-lambda`` (Python 3.13, the boto3/botocore pinned in
``lambda-sdk.txt``) with ``python -m rehearsal.lambda_python --setup``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON_VERSION = "3.13"
SDK_VENV = PROJECT_DIR / ".venv-lambda"
SDK_REQUIREMENTS = Path(__file__).resolve().parent / "lambda-sdk.txt"


class LambdaPythonMissing(RuntimeError):
    """Python 3.13 or its SDK virtualenv is not on this machine."""


def _strict() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def find_python() -> Path | None:
    """Python 3.13 from pyenv (``$(pyenv root)/versions/3.13.*``) or PATH, or None."""
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True)
        roots.insert(0, result.stdout.strip())
    for root in filter(None, roots):
        pattern = f"{root}/versions/{LAMBDA_PYTHON_VERSION}.*/bin/python{LAMBDA_PYTHON_VERSION}"
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[-1])
    on_path = shutil.which(f"python{LAMBDA_PYTHON_VERSION}")
    # pyenv's shim is on PATH even where that version is not selected: it would fail to run.
    if on_path and "/shims/" not in on_path:
        return Path(on_path)
    return None


def sdk_site_packages() -> Path | None:
    """site-packages of ``.venv-lambda``, or None when the set-up has not made it."""
    found = sorted(SDK_VENV.glob(f"lib/python{LAMBDA_PYTHON_VERSION}/site-packages"))
    return found[0] if found and (found[0] / "boto3").is_dir() else None


def lambda_python() -> tuple[Path, Path | None]:
    """The interpreter and SDK folder to run the function with.

    Python 3.13 with ``.venv-lambda``'s SDK when both exist. Otherwise, with ``CI=true`` it is
    an error; elsewhere this interpreter and its own SDK (None), with a warning.
    """
    python, sdk = find_python(), sdk_site_packages()
    if python is not None and sdk is not None:
        return python, sdk
    missing = f"Python {LAMBDA_PYTHON_VERSION}" if python is None else str(SDK_VENV)
    message = (
        f"{missing} not found: run `bash scripts/setup` (needs Python {LAMBDA_PYTHON_VERSION} "
        "on PATH or in pyenv)"
    )
    if _strict():
        raise LambdaPythonMissing(message)
    warnings.warn(f"{message}; running the function on {sys.version.split()[0]}", stacklevel=2)
    return Path(sys.executable), None


def setup() -> None:
    """Make ``.venv-lambda``: Python 3.13 with the SDK pinned in lambda-sdk.txt."""
    python = find_python()
    if python is None:
        raise LambdaPythonMissing(f"Python {LAMBDA_PYTHON_VERSION} not found on PATH or in pyenv")
    subprocess.run([str(python), "-m", "venv", "--clear", str(SDK_VENV)], check=True)
    pip = [str(SDK_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--disable-pip-version-check", "-r", str(SDK_REQUIREMENTS)], check=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["--setup"]:
        sys.exit("usage: python -m rehearsal.lambda_python --setup")
    setup()
