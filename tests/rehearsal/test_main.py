"""The README's main job: `python -m rehearsal` on the example app, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys

from rehearsal.assembly import PROJECT_DIR, cdk_environment


def test_rehearsal_shows_the_share_appear_move_survive_rollback_and_disappear() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rehearsal"],
        cwd=PROJECT_DIR,
        env=cdk_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    shared = [line.split("shared with:")[1].strip() for line in lines if "shared with:" in line]
    assert shared == [
        "111122223333",
        "444455556666",
        "444455556666",
        "444455556666",
        "nobody",
        "nobody",
    ]
    assert "rehearsal passed" in lines[-1]
