"""One synthesized app, shared by the construct tests (synthesis is the slow part)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_workspaces_image_sharing import WorkspaceImagePermission
from tests.support.apps import SynthesizedStack
from tests.support.template_checks import add_nag
from tests.support.values import SHARES


@pytest.fixture(scope="session")
def three_shares(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """A stack holding three shares of two images, synthesized once."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    # The CLI turns asset metadata on; the tests read the asset folder from it.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    add_nag(app)
    stack = cdk.Stack(
        app, "ThreeShares", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    for number, (image_id, account_id) in enumerate(SHARES):
        WorkspaceImagePermission(
            stack, f"Share{number}", image_id=image_id, shared_account_id=account_id
        )
    app.synth()
    return SynthesizedStack(stack, Template.from_stack(stack), outdir)


@pytest.fixture
def stack() -> cdk.Stack:
    """An empty stack with a known account, for constructs that should fail."""
    return cdk.Stack(
        cdk.App(), "Empty", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
