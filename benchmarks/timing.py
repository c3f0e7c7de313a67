"""Wall time of one run of a command, as every benchmark takes it."""

from __future__ import annotations

import subprocess
import time

from rehearsal.assembly import PROJECT_DIR, cdk_environment


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of ``command``, run from the project folder with ``env`` (the CDK CLI's
    environment by default); it must succeed."""
    started = time.perf_counter()
    subprocess.run(
        command, cwd=PROJECT_DIR, env=env or cdk_environment(), check=True, capture_output=True
    )
    return time.perf_counter() - started
