"""The README's main job: `python -m rehearsal` on the example app, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys

from rehearsal.assembly import PROJECT_DIR, cdk_environment


def test_rehearsal_shows_the_shares_appear_move_survive_rollbacks_and_disappear() -> None:
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
    per_pair, organization = shared[:11], shared[11:]
    assert per_pair == [
        "111122223333",  # Create
        "444455556666",  # Update to another account
        "444455556666",  # rolled back
        "444455556666",  # refused
        "444455556666",  # image change: the new image
        "nobody",  # revoked by hand, then the stack deleted
        "nobody",  # Create refused, rolled back
        "111122223333",  # Create (the short-Timeout stack)
        "111122223333",  # Update timed out, rolled back, not replayed
        "nobody",  # stack deleted
        "444455556666",  # Create, then the drift report
    ]
    reader, deployed, synced, deleted = organization
    assert (reader, deleted) == ("nobody", "nobody")  # the reader role's stack; the deletion
    assert len(deployed.split(", ")) == len(synced.split(", ")) == 4 and deployed != synced
    assert any(line.strip().startswith("In sync: 1 ok") for line in lines), result.stdout
    assert any(line.strip().startswith("In sync: 4 ok") for line in lines), result.stdout
    assert "rehearsal passed" in lines[-1]
    # What a newcomer reads: nothing after the verdict, and no traceback anywhere.
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
