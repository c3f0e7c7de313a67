"""An organization share's configuration: ID checks, properties, and its physical ID."""

from __future__ import annotations

import pytest

from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    InvalidShareError,
)
from cdk_workspaces_image_sharing.runtime.sharing_functions.organization.config import (
    OrganizationShareConfig,
    image_of_configuration,
    parent_id_problem,
    wanted_accounts,
)

IMAGE = "wsi-0123456789"
OWNER = "123456789012"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/S/1"


@pytest.mark.parametrize(
    "value",
    [
        "r-abcd",
        "r-" + "a1" * 16,
        "ou-abcd-12345678",
        "ou-" + "a" * 32 + "-" + "0" * 32,
    ],
)
def test_ou_and_root_ids_are_accepted(value: str) -> None:
    assert parent_id_problem(value) is None


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("r-abc", ""),
        ("r-" + "a" * 33, ""),
        ("ou-abcd-1234567", ""),
        ("ou-abc-12345678", ""),
        ("ou-abcd-12345678-", ""),
        (" ou-abcd-12345678", ""),
        ("", ""),
        (None, ""),
        (12, ""),
        ("OU-ABCD-12345678", "(IDs are lowercase)"),
        ("111122223333", "(an account ID: use AccountIds)"),
        ("o-a1b2c3d4e5", "(an organization ID: use its root ID)"),
    ],
)
def test_other_values_name_field_value_and_expectation(value: object, hint: str) -> None:
    problem = parent_id_problem(value, "organizational_unit_ids")
    assert problem is not None
    assert problem.startswith(f"organizational_unit_ids {value!r} is not an OU or root ID: ")
    assert "(ou-xxxx-xxxxxxxx)" in problem and "(r-xxxx)" in problem
    assert problem.endswith(hint)
    default = parent_id_problem(value)
    assert default is not None and default.startswith(f"OrganizationalUnitIds {value!r} ")


def test_properties_as_cloudformation_or_the_schedule_sends_them_read_the_same() -> None:
    listed = {
        "ImageId": IMAGE,
        "OrganizationalUnitIds": ["ou-abcd-22222222", "ou-abcd-11111111"],
        "AccountIds": ["111122223333"],
        "IncludeNested": "false",
        "MaxRevocationsPerRun": "3",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
    }
    joined = {**listed, "OrganizationalUnitIds": "ou-abcd-11111111,ou-abcd-22222222"}
    config = OrganizationShareConfig.from_properties(listed, OWNER)
    assert config == OrganizationShareConfig.from_properties(joined, OWNER)
    assert config.parent_ids == ("ou-abcd-11111111", "ou-abcd-22222222")
    assert (config.include_nested, config.max_revocations_per_run) == (False, 3)


def test_each_configuration_of_each_resource_has_its_own_physical_id() -> None:
    config = OrganizationShareConfig(IMAGE, ("ou-abcd-11111111",))
    physical_id = config.configuration_id(STACK, "Workloads")
    assert image_of_configuration(physical_id) == IMAGE
    assert physical_id == config.configuration_id(STACK, "Workloads")  # deterministic
    others = {
        OrganizationShareConfig(IMAGE, ("ou-abcd-22222222",)).configuration_id(STACK, "Workloads"),
        config.configuration_id(STACK, "Renamed"),
        config.configuration_id(STACK.replace("/S/", "/T/"), "Workloads"),
    }
    assert physical_id not in others and len(others) == 3


@pytest.mark.parametrize("physical_id", ["S_Workloads_ABCD1234", f"{IMAGE}/111122223333", None])
def test_ids_not_made_here_name_no_configuration(physical_id: object) -> None:
    assert image_of_configuration(physical_id) is None


def test_bad_properties_name_every_problem_within_a_reason() -> None:
    with pytest.raises(InvalidShareError) as raised:
        OrganizationShareConfig.from_properties(
            {"ImageId": IMAGE, "OrganizationalUnitIds": [], "AccountIds": [OWNER]}, OWNER
        )
    message = str(raised.value)
    assert "OrganizationalUnitIds is empty" in message
    assert f"AccountIds '{OWNER}' is the account that owns the image" in message


def test_the_owner_and_the_excluded_are_never_wanted() -> None:
    config = OrganizationShareConfig(
        IMAGE, ("r-abcd",), account_ids=("444455556666",), exclude_account_ids=("111122223333",)
    )
    resolved = ["111122223333", "222233334444", OWNER]
    assert wanted_accounts(config, resolved, OWNER) == {"222233334444", "444455556666"}
