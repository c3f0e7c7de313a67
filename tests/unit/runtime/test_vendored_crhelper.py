"""The crhelper copy in the Lambda asset root is the released one, licence included."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from cdk_workspaces_image_sharing.core.lambda_code import RUNTIME_DIR

VENDORED = RUNTIME_DIR / "crhelper"


def test_vendored_crhelper_is_the_pinned_release_unchanged() -> None:
    release = importlib.metadata.distribution("crhelper")
    released = {
        Path(str(file)).name: Path(str(file.locate())).read_bytes()
        for file in release.files or []
        if str(file).startswith("crhelper/") and not str(file).endswith(".pyc")
    }
    vendored = {path.name: path.read_bytes() for path in VENDORED.iterdir() if path.is_file()}
    assert {name: vendored.get(name) for name in released} == released, (
        "run scripts/vendor-crhelper"
    )


def test_vendored_crhelper_carries_its_licence_and_notice() -> None:
    assert "Apache License" in (VENDORED / "LICENSE").read_text()
    assert (VENDORED / "NOTICE").is_file()
