"""The organization sharing function's role name: known before deploy, stable across synths,
unique per stack and Region, nested stacks included."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import aws_cdk as cdk

from cdk_workspaces_image_sharing import WorkspaceImageOrganizationShare
from cdk_workspaces_image_sharing.core.tokens import short_hash
from cdk_workspaces_image_sharing.organization.function import (
    OrganizationSharingFunction,
)
from rehearsal.assembly import PROJECT_DIR, cdk_environment

IMAGE = "wsi-0123456789"
OU = "ou-ab12-11111111"

# Prints the role name each organization share's function gets, by construct path.
_ROLE_NAMES = textwrap.dedent(
    f"""
    import json
    import aws_cdk as cdk
    from cdk_workspaces_image_sharing import WorkspaceImageOrganizationShare
    from cdk_workspaces_image_sharing.organization.function import (
        OrganizationSharingFunction,
    )

    app = cdk.App()
    names = {{}}
    for parent_name in ("First", "Second"):
        parent = cdk.Stack(app, parent_name)
        nested = cdk.NestedStack(parent, "Sharing")
        share = WorkspaceImageOrganizationShare(
            nested, "Share", image_id={IMAGE!r}, organizational_unit_ids=[{OU!r}]
        )
        role = OrganizationSharingFunction.get_or_create(share).role.node.default_child
        names[nested.node.path] = nested.resolve(role.role_name)
    print(json.dumps(names, sort_keys=True))
    """
)


def _role_names_in_a_new_process() -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _ROLE_NAMES],
        cwd=PROJECT_DIR,
        env=cdk_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def test_a_nested_stacks_role_name_is_the_same_in_every_synth_and_differs_by_parent() -> None:
    first, second = _role_names_in_a_new_process(), _role_names_in_a_new_process()
    assert first == second
    names = [json.dumps(name, sort_keys=True) for name in first.values()]
    assert len(names) == 2 and names[0] != names[1]
    assert "Token" not in "".join(names)


def test_a_top_level_stacks_role_name_is_unchanged() -> None:
    """Deployed roles are not replaced on upgrade: a hash of the stack's name, as before."""
    stack = cdk.Stack(cdk.App(), "Sharing")
    share = WorkspaceImageOrganizationShare(
        stack, "Share", image_id=IMAGE, organizational_unit_ids=[OU]
    )
    role = OrganizationSharingFunction.get_or_create(share).role.node.default_child
    assert isinstance(role, cdk.aws_iam.CfnRole)
    assert stack.resolve(role.role_name) == {
        "Fn::Join": [
            "",
            ["WorkspaceImageOrgShare-", {"Ref": "AWS::Region"}, f"-{short_hash('Sharing')}"],
        ]
    }


def test_the_ledgers_tombstones_expire() -> None:
    stack = cdk.Stack(cdk.App(), "Ledger")
    WorkspaceImageOrganizationShare(stack, "Share", image_id=IMAGE, organizational_unit_ids=[OU])
    cdk.assertions.Template.from_stack(stack).has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True}},
    )
