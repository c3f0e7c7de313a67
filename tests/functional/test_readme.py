"""The README's usage example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rehearsal.assembly import PROJECT_DIR, cdk_environment


def test_usage_example_synthesizes(tmp_path: Path) -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    example = re.search(r"## Use\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert example, "README has no usage example under '## Use'"
    assert len(example.group(1).splitlines()) <= 15
    # A process of its own: the CDK reads CDK_OUTDIR when its runtime starts.
    result = subprocess.run(
        [sys.executable, "-c", example.group(1)],
        cwd=tmp_path,
        env={**cdk_environment(), "CDK_OUTDIR": str(tmp_path / "out")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "GoldenImageSharing.template.json").is_file()
