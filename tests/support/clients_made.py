"""Which boto3 clients the Lambda package's code makes, in order; and clients it cannot make."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import boto3.session
import pytest
from botocore.exceptions import NoRegionError

from cdk_workspaces_image_sharing.core.lambda_code import RUNTIME_DIR


def _made_by_the_lambda_package() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(str(RUNTIME_DIR)):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def record_clients(
    monkeypatch: pytest.MonkeyPatch, *, cannot_make: Iterable[str] = ()
) -> list[str]:
    """The service names of the clients the Lambda package's code makes from now on, through
    any boto3 session (``boto3.client`` included), in the order it makes them; the test's own
    clients are left out. Making a client of a service in ``cannot_make`` fails as botocore
    fails without a Region (NoRegionError), for the Lambda package only."""
    made: list[str] = []
    refused = frozenset(cannot_make)
    make = boto3.session.Session.client

    def recording(self: boto3.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if _made_by_the_lambda_package():
            if service_name in refused:
                raise NoRegionError()
            made.append(service_name)
        return make(self, service_name, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(boto3.session.Session, "client", recording)
    return made
