"""The README's usage example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rehearsal.assembly import PROJECT_DIR


def test_usage_example_synthesizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    example = re.search(r"## Use\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert example, "README has no usage example under '## Use'"
    assert len(example.group(1).splitlines()) <= 15
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    exec(compile(example.group(1), "README.md", "exec"), {})
    assert (tmp_path / "GoldenImageSharing.template.json").is_file()
