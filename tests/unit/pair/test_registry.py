"""One pair declared twice in one App is refused at synth, naming both construct paths."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImagePermission, WorkspaceImageShare

IMAGE, ACCOUNT = "wsi-aaaaaaaaa", "111122223333"
HERE = cdk.Environment(account="123456789012", region="us-east-1")


def share(scope: cdk.Stack, construct_id: str = "Share", account: str = ACCOUNT) -> None:
    WorkspaceImagePermission(scope, construct_id, image_id=IMAGE, shared_account_id=account)


@pytest.mark.parametrize(
    ("first_env", "second_env"),
    [
        (HERE, HERE),
        (HERE, None),  # an environment unknown at synth matches every one
        (None, None),
        (HERE, cdk.Environment(account="123456789012")),
    ],
)
def test_two_stacks_of_one_environment_may_not_declare_one_pair(
    first_env: cdk.Environment | None, second_env: cdk.Environment | None
) -> None:
    app = cdk.App()
    share(cdk.Stack(app, "First", env=first_env))
    with pytest.raises(ValueError, match=r"^Second/Share: .* already shared .* by First/Share"):
        share(cdk.Stack(app, "Second", env=second_env))


def test_a_nested_stack_may_not_declare_its_parents_pair() -> None:
    app = cdk.App()
    parent = cdk.Stack(app, "Parent", env=HERE)
    share(parent)
    with pytest.raises(ValueError, match=r"Parent/Nested/Share: .* by Parent/Share"):
        share(cdk.NestedStack(parent, "Nested"))


@pytest.mark.parametrize(
    "other",
    [
        cdk.Environment(account="123456789012", region="eu-west-1"),
        cdk.Environment(account="999988887777", region="us-east-1"),
    ],
)
def test_stacks_of_different_environments_may(other: cdk.Environment) -> None:
    app = cdk.App()
    share(cdk.Stack(app, "First", env=HERE))
    share(cdk.Stack(app, "Second", env=other))


def test_alike_tokens_in_two_stacks_are_not_compared() -> None:
    app = cdk.App()
    for name in ("First", "Second"):
        stack = cdk.Stack(app, name, env=HERE)
        account = cdk.CfnParameter(stack, "Account").value_as_string
        share(stack, account=account)


def test_shares_of_a_list_are_named_by_their_real_paths() -> None:
    app = cdk.App()
    first = cdk.Stack(app, "First", env=HERE)
    WorkspaceImageShare(first, "Golden", image_id=IMAGE, account_ids=[ACCOUNT])
    second = cdk.Stack(app, "Second", env=HERE)
    with pytest.raises(
        ValueError, match=rf"^Second/Golden/Account{ACCOUNT}: .* by First/Golden/Account{ACCOUNT}"
    ):
        WorkspaceImageShare(second, "Golden", image_id=IMAGE, account_ids=[ACCOUNT])
    child = first.node.find_child("Golden").node.find_child(f"Account{ACCOUNT}")
    assert child.node.path == f"First/Golden/Account{ACCOUNT}"
