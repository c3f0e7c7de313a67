"""A rehearsal on the shared local endpoint, with the example app's shares."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from rehearsal.assembly import ShareResource, StackTemplate
from rehearsal.local_aws import LocalAws
from rehearsal.scenario import Rehearsal

SHORT_TIMEOUT_SECONDS = 6.0


@pytest.fixture
def rehearsal(aws: LocalAws) -> Iterator[Rehearsal]:
    run = Rehearsal(aws)
    yield run
    run.close()


@pytest.fixture
def short_timeout_rehearsal(aws: LocalAws) -> Iterator[Rehearsal]:
    """Runs the function with a 6 s Timeout instead of the template's 180 s, so that reaching
    the Timeout takes seconds; crhelper's timer and the hard stop work the same way."""
    run = Rehearsal(aws, timeout_seconds=SHORT_TIMEOUT_SECONDS)
    yield run
    run.close()


@pytest.fixture
def example_shares(example_stack: StackTemplate, image_id: str) -> dict[str, ShareResource]:
    """The example app's share, pointed at this test's image (moto makes random image IDs)."""
    return {
        logical_id: dataclasses.replace(share, properties={**share.properties, "ImageId": image_id})
        for logical_id, share in example_stack.shares.items()
    }
