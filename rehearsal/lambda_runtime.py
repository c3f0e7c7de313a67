"""Run a function's handler the way Lambda does.

Each container is a separate Python 3.13 process (``lambda_python``) whose path holds only the
asset folder and the runtime's SDK. It imports the handler once (the init phase) and then
serves invocations one at a time, reusing module state as a warm Lambda container does. The
runtime's logging is reproduced: a handler on the root logger writing to the function's log,
so whatever the function logs at the level it sets is captured. Each container runs on the
stand-in's virtual clock (``lambda_clock``): an invocation starts at the Lambda service's time,
its sleeps cost no real time, and the context's remaining time and crhelper's timer read that
clock. An invocation that reaches the Timeout on it is stopped hard, and its container is
thrown away.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cdk_workspaces_image_sharing.core.lambda_code import PACKAGE, RUNTIME_DIR
from rehearsal.assembly import FunctionSpec
from rehearsal.lambda_python import lambda_python

# What the Python Lambda runtime puts on the path besides the function's code, when no SDK
# virtualenv is set up (see lambda_python).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
INIT_TIMEOUT_SECONDS = 30
STOP_MARGIN_SECONDS = 10.0
_MARK = "\x1e"  # starts the line a container writes when an invocation ends
# The Python runtime's log line: level, time, request ID, message (tab-separated).
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s\t%(aws_request_id)s\t%(name)s\t%(message)s"

# Runs in the container: -S keeps site-packages off sys.path, so only the asset, the SDK and
# the runtime's context module can be imported, as in Lambda.
_BOOTSTRAP = """
import sys
asset_dir, sdk_dir, runtime_dir, handler, log_format = sys.argv[1:6]
sys.path[:0] = [asset_dir, sdk_dir, runtime_dir]
import lambda_clock
clock = lambda_clock.install()
import importlib, json, logging, os, threading, traceback
from lambda_context import LambdaContext

class RequestIdFilter(logging.Filter):
    request_id = "init"
    def filter(self, record):
        record.aws_request_id = self.request_id
        return True

request_ids = RequestIdFilter()
runtime_handler = logging.StreamHandler(sys.stdout)
runtime_handler.setFormatter(logging.Formatter(log_format))
runtime_handler.addFilter(request_ids)
logging.getLogger().addHandler(runtime_handler)
module_name, function_name = handler.rsplit(".", 1)
try:
    entry = getattr(importlib.import_module(module_name), function_name)
except Exception:
    traceback.print_exc(file=sys.stdout)
    print("MARK" + "init-error", flush=True)
    sys.exit(1)
print("MARK" + "ready", flush=True)
ending = threading.Lock()

def end(outcome, started, finished):
    with ending:
        if finished.is_set():
            return
        finished.set()
        sys.stdout.flush()
        elapsed = clock.monotonic() - started
        print("MARK" + outcome + " " + repr(elapsed) + " " + repr(clock.time()), flush=True)
        if outcome == "timeout":  # Lambda stops the invocation there and then
            os._exit(0)

def watch(deadline, started, finished):
    if clock.wait_until(deadline, finished):
        end("timeout", started, finished)

for line in sys.stdin:
    request = json.loads(line)
    clock.advance_to(request["now"])
    request_ids.request_id = request["request_id"]
    started, finished = clock.monotonic(), threading.Event()
    clock.deadline = started + request["timeout"]
    threading.Thread(
        target=watch, args=(started + request["timeout"], started, finished), daemon=True
    ).start()
    context = LambdaContext(request["timeout"], aws_request_id=request["request_id"])
    try:
        entry(request["event"], context)
        outcome = "ok"
    except Exception:
        traceback.print_exc(file=sys.stdout)
        outcome = "error"
    end(outcome, started, finished)
""".replace("MARK", repr(_MARK)[1:-1])


def link_runtime_packages(folder: Path) -> Path:
    """Put links to this interpreter's SDK packages in ``folder``, as the runtime provides
    them (the fallback when ``.venv-lambda`` is missing)."""
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


class _ImportedOnUse(dict[str, ModuleType]):
    def __missing__(self, name: str) -> ModuleType:
        module = self[name] = importlib.import_module(f"{PACKAGE}.{name}")
        return module


@contextlib.contextmanager
def handler_in_process(environment: dict[str, str]) -> Iterator[dict[str, ModuleType]]:
    """The Lambda package's modules imported fresh from the asset root in this process, as
    Lambda imports them (``sharing_functions`` and crhelper top-level), with ``environment``
    set; keyed by their name within the package (``pair.entry``, ``organization.sync``, …) and
    imported on first use, as Lambda imports only its handler's. Everything is put back
    afterwards."""

    def forget() -> None:
        for name in list(sys.modules):
            if name.split(".")[0] in (PACKAGE, "crhelper"):
                del sys.modules[name]

    saved = dict(os.environ)
    os.environ.update(environment)
    sys.path.insert(0, str(RUNTIME_DIR))
    forget()
    try:
        yield _ImportedOnUse()
    finally:
        forget()
        sys.path.remove(str(RUNTIME_DIR))
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended: ``outcome`` is ``ok``, ``error`` (the handler raised, or the
    init phase failed) or ``timeout`` (stopped at the Timeout)."""

    outcome: str
    log: str
    seconds: float
    ended_at: float = 0.0
    """When it ended on the container's virtual clock (epoch seconds; 0 if it never started)."""

    @property
    def failed(self) -> bool:
        """Whether Lambda counts it as a failed asynchronous invocation (and may retry it)."""
        return self.outcome != "ok"


class _Container:
    def __init__(self, command: list[str], environment: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.init_log, outcome = self._until_mark(time.monotonic() + INIT_TIMEOUT_SECONDS)
        self.ready = outcome == "ready"

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _until_mark(self, deadline: float) -> tuple[str, str]:
        log: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return "".join(log), "timeout"
            if line is None:
                return "".join(log), "error"
            if line.startswith(_MARK):
                return "".join(log), line[len(_MARK) :].strip()
            log.append(line)

    def invoke(self, event: dict[str, Any], timeout_seconds: float, now: float) -> Invocation:
        started = time.monotonic()
        request = {
            "event": event,
            "timeout": timeout_seconds,
            "request_id": str(uuid.uuid4()),
            "now": now,
        }
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            return Invocation("error", "container exited", 0.0)
        # The container stops itself at the Timeout on its virtual clock, which runs at least
        # as fast as real time; this real deadline only catches a container that hangs.
        log, mark = self._until_mark(started + timeout_seconds + STOP_MARGIN_SECONDS)
        outcome, *clock = mark.split(" ")
        elapsed = float(clock[0]) if clock else time.monotonic() - started
        ended = float(clock[1]) if clock else now + elapsed
        if outcome == "timeout":
            self.stop()
            log += f"Task timed out after {timeout_seconds:.2f} seconds\n"
        return Invocation(outcome, log, elapsed, ended)

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class LambdaRuntime:
    """Invokes one function in warm containers (one per concurrent invocation); close() ends
    them."""

    def __init__(
        self,
        function: FunctionSpec,
        environment: dict[str, str],
        timeout_seconds: float | None = None,
    ) -> None:
        """``environment`` adds to the function's own variables (the local endpoint, the
        role's credentials); ``timeout_seconds`` replaces its Timeout (to rehearse a timeout
        quickly)."""
        self.function = function
        self.timeout_seconds = timeout_seconds or function.timeout_seconds
        self._environment = environment
        self._dir = tempfile.TemporaryDirectory(prefix="lambda-runtime-")
        runtime_dir = Path(self._dir.name)
        python, sdk = lambda_python()
        self.python = python
        if sdk is None:
            sdk = link_runtime_packages(runtime_dir / "sdk")
        # The runtime also provides the context object.
        for module in ("lambda_context.py", "lambda_clock.py"):
            shutil.copy(Path(__file__).parent / module, runtime_dir)
        # -B: Lambda's /var/task is read-only; nor may a run rewrite the package's bytecode.
        self._command = [
            str(python),
            "-S",
            "-B",
            "-u",
            "-c",
            _BOOTSTRAP,
            str(function.asset_dir),
            str(sdk),
            str(runtime_dir),
            function.handler,
            LOG_FORMAT,
        ]
        self._idle: list[_Container] = []
        self._lock = threading.Lock()
        self.cold_starts = 0

    def environment(self) -> dict[str, str]:
        """The variables Lambda would set, the function's own, and the given ones."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "AWS_LAMBDA_FUNCTION_NAME": self.function.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.timeout_seconds)),
            **self.function.environment,
            **self._environment,
        }

    def invoke(self, event: dict[str, Any], now: float | None = None) -> Invocation:
        """Run the handler on ``event`` in an idle container, or a new one, starting at
        ``now`` on the virtual clock (epoch seconds; default: the real time)."""
        with self._lock:
            container = self._idle.pop() if self._idle else None
        if container is None:
            container = _Container(self._command, self.environment())
            with self._lock:
                self.cold_starts += 1
            if not container.ready:
                container.stop()
                return Invocation("error", container.init_log, 0.0)
            init_log = container.init_log
        else:
            init_log = ""
        invocation = container.invoke(
            event, self.timeout_seconds, time.time() if now is None else now
        )
        if init_log:
            invocation = dataclasses.replace(invocation, log=init_log + invocation.log)
        if container.alive and not invocation.failed:
            with self._lock:
                self._idle.append(container)
        else:
            container.stop()
        return invocation

    def close(self) -> None:
        """Stop every container."""
        with self._lock:
            idle, self._idle = self._idle, []
        for container in idle:
            container.stop()
        self._dir.cleanup()
