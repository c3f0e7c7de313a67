"""Run a function's handler the way Lambda does: a separate Python process whose path holds only
the asset folder and the SDK the runtime provides, a context that runs down from the function's
Timeout, and a hard stop when the Timeout is reached."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from rehearsal.assembly import SharingFunction

# What the Python Lambda runtime puts on the path besides the function's code.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

# Runs in the child: -S keeps site-packages off sys.path, so only the asset and RUNTIME_PACKAGES
# can be imported, as in Lambda.
_BOOTSTRAP = """
import importlib, json, sys
asset_dir, runtime_dir, handler, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sys.path[:0] = [asset_dir, runtime_dir]
from lambda_context import LambdaContext
context = LambdaContext(timeout)
module_name, function_name = handler.rsplit(".", 1)
event = json.load(sys.stdin)
getattr(importlib.import_module(module_name), function_name)(event, context)
"""


def link_runtime_packages(folder: Path) -> Path:
    """Put links to the SDK packages in ``folder``, as the Lambda runtime provides them."""
    folder.mkdir(parents=True, exist_ok=True)
    for package in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        if not (folder / source.name).exists():
            (folder / source.name).symlink_to(source)
    return folder


HANDLER_MODULES = ("index", "image_permissions", "share")


@contextlib.contextmanager
def handler_in_process(
    asset_dir: Path, environment: dict[str, str]
) -> Iterator[dict[str, ModuleType]]:
    """The handler's modules imported fresh from ``asset_dir`` in this process, as Lambda
    imports them (top-level), with ``environment`` set; everything is put back afterwards."""
    saved = dict(os.environ)
    os.environ.update(environment)
    sys.path.insert(0, str(asset_dir))
    for name in HANDLER_MODULES:
        sys.modules.pop(name, None)
    try:
        yield {name: importlib.import_module(name) for name in HANDLER_MODULES}
    finally:
        for name in HANDLER_MODULES:
            sys.modules.pop(name, None)
        sys.path.remove(str(asset_dir))
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended."""

    timed_out: bool
    exit_code: int | None
    log: str


class LambdaRuntime:
    """Invokes a SharingFunction in child processes; use as a context manager."""

    def __init__(
        self,
        function: SharingFunction,
        aws_environment: dict[str, str],
        timeout_seconds: float | None = None,
    ) -> None:
        """``timeout_seconds`` replaces the function's Timeout (to rehearse a timeout quickly)."""
        self.function = function
        self.timeout_seconds = timeout_seconds or function.timeout_seconds
        self._aws_environment = aws_environment
        self._dir = tempfile.TemporaryDirectory(prefix="lambda-runtime-")
        self._runtime_dir = Path(self._dir.name)
        link_runtime_packages(self._runtime_dir)
        # The runtime also provides the context object.
        shutil.copy(Path(__file__).parent / "lambda_context.py", self._runtime_dir)

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()

    def environment(self) -> dict[str, str]:
        """The variables Lambda would set, the function's own, and the local endpoint's."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "AWS_LAMBDA_FUNCTION_NAME": self.function.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.timeout_seconds)),
            **self.function.environment,
            **self._aws_environment,
        }

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the handler on ``event``; stop it when the Timeout is reached, as Lambda does."""
        command = [
            sys.executable,
            "-S",
            "-c",
            _BOOTSTRAP,
            str(self.function.asset_dir),
            str(self._runtime_dir),
            self.function.handler,
            str(self.timeout_seconds),
        ]
        with subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.environment(),
            text=True,
        ) as process:
            try:
                log, _ = process.communicate(json.dumps(event), timeout=self.timeout_seconds)
                return Invocation(False, process.returncode, log)
            except subprocess.TimeoutExpired:
                process.kill()
                log, _ = process.communicate()
                return Invocation(True, None, log)
