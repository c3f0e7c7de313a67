"""The Organizations service model the organization function ships: a current botocore's,
with its licence, modelling the accounts' ``State``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest

from cdk_workspaces_image_sharing.core.lambda_code import PACKAGE, RUNTIME_DIR
from rehearsal.lambda_python import lambda_python, sdk_site_packages

SHIPPED = RUNTIME_DIR / PACKAGE / "organization" / "botocore_models"


def _model(root: Path) -> dict[str, object]:
    (version,) = (root / "organizations").iterdir()
    return dict(json.loads(gzip.open(version / "service-2.json.gz").read()))


def test_the_shipped_model_knows_state_and_carries_botocores_licence() -> None:
    shapes = _model(SHIPPED)["shapes"]
    assert isinstance(shapes, dict)
    assert "State" in shapes["Account"]["members"]
    assert "ACTIVE" in shapes[shapes["Account"]["members"]["State"]["shape"]]["enum"]
    assert "Apache License" in (SHIPPED / "LICENSE.txt").read_text()
    assert (SHIPPED / "NOTICE").is_file()
    assert (SHIPPED / "SOURCE").read_text().startswith("botocore ")


def test_the_shipped_model_is_as_new_as_the_development_sdks() -> None:
    """What the development SDK models of an account, the shipped model does too (run
    scripts/vendor-organizations-model after an upgrade that adds to it)."""
    current = _model(Path(botocore.__file__).parent / "data")["shapes"]
    shipped = _model(SHIPPED)["shapes"]
    assert isinstance(current, dict) and isinstance(shipped, dict)
    assert set(current["Account"]["members"]) <= set(shipped["Account"]["members"])


def test_the_runtimes_sdk_has_the_same_api_version_and_no_state() -> None:
    """botocore loads the newest API version of all its search paths: the shipped one must be
    the version the runtime's SDK has, so the shipped file is the one found first."""
    lambda_python()  # with CI=true, a missing .venv-lambda is an error
    site = sdk_site_packages()
    if site is None:  # pragma: no cover - outside CI, lambda_python() warned
        pytest.skip("no .venv-lambda: run bash scripts/setup")
    runtime = site / "botocore" / "data"
    assert [p.name for p in (runtime / "organizations").iterdir()] == [
        p.name for p in (SHIPPED / "organizations").iterdir()
    ]
    assert "State" not in _model(runtime)["shapes"]["Account"]["members"]  # type: ignore[index]
