"""Rehearsals on the shared local endpoint, the example apps' templates, an organization."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rehearsal.assembly import StackTemplate
from rehearsal.local_aws import LocalAws
from rehearsal.organization_stacks import OrganizationApp, synthesize_organization_app
from rehearsal.scenario import Rehearsal
from tests.support.organization_scene import Scene
from tests.support.values import EXAMPLE_IMAGE_ID

SHORT_TIMEOUT_SECONDS = 6.0


@pytest.fixture
def short_timeout_rehearsal(aws: LocalAws) -> Iterator[Rehearsal]:
    """Runs the function with a 6 s Timeout instead of the template's 180 s, so that reaching
    the Timeout takes seconds; crhelper's timer and the hard stop work the same way."""
    run = Rehearsal(aws, print_line=lambda _: None, timeout_seconds=SHORT_TIMEOUT_SECONDS)
    yield run
    run.close()


@pytest.fixture
def example_template(example_stack: StackTemplate, image_id: str) -> StackTemplate:
    """The example app's template, pointed at this test's image (moto makes random IDs)."""
    return example_stack.with_values({EXAMPLE_IMAGE_ID: image_id})


@pytest.fixture(scope="session")
def organization_app(tmp_path_factory: pytest.TempPathFactory) -> OrganizationApp:
    """The example organization app, synthesized once for the stand-in's two accounts."""
    return synthesize_organization_app(tmp_path_factory.mktemp("organization-app"))


@pytest.fixture
def scene(aws: LocalAws, organization_app: OrganizationApp, image_id: str) -> Iterator[Scene]:
    """A quiet rehearsal with an organization of its own, the organization app, an image."""
    run = Rehearsal(aws, print_line=lambda _: None)
    yield Scene.build(run, organization_app, image_id)
    run.close()
