"""One version: pyproject.toml's, which the package reports and the changelog's latest release
names, each release dated (Keep a Changelog)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import date

import cdk_workspaces_image_sharing
from rehearsal.assembly import PROJECT_DIR

RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.M)


def _declared_version() -> str:
    with (PROJECT_DIR / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def test_the_package_reports_pyprojects_version() -> None:
    assert cdk_workspaces_image_sharing.__version__ == _declared_version()
    shown = subprocess.run(
        [sys.executable, "-m", "cdk_workspaces_image_sharing", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.split() == ["workspace-image-shares", _declared_version()]


def test_the_changelog_is_unreleased_then_dated_releases_newest_first() -> None:
    releases = RELEASE.findall((PROJECT_DIR / "CHANGELOG.md").read_text())
    assert releases[0] == ("Unreleased", "")
    versions = [version for version, _ in releases[1:]]
    assert versions[0] == _declared_version()
    dates = [date.fromisoformat(day) for _, day in releases[1:]]  # every release has a date
    assert dates == sorted(dates, reverse=True)
    numbers = [tuple(int(part) for part in version.split(".")) for version in versions]
    assert numbers == sorted(numbers, reverse=True)
