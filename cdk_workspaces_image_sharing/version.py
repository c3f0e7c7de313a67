"""The installed release's version: pyproject.toml's, read from the distribution's metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "cdk-workspaces-image-sharing"


def installed_version() -> str:
    """The installed distribution's version; ``0+unknown`` for a checkout that is not
    installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
