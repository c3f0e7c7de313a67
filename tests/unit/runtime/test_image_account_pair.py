"""Property checks and the physical ID format, shared by the handler and the construct."""

from __future__ import annotations

import pytest

from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    ImageAccountPair,
    InvalidShareError,
)

IMAGE = "wsi-0123456789"
ACCOUNT = "111122223333"
OWNER = "123456789012"


def test_physical_id_is_image_slash_account_and_reads_back() -> None:
    share = ImageAccountPair(IMAGE, ACCOUNT)
    assert share.physical_id == "wsi-0123456789/111122223333"
    assert ImageAccountPair.from_physical_id(share.physical_id) == share


@pytest.mark.parametrize(
    "physical_id",
    [
        "Rehearsal_ShareImage_ABCD1234",  # what crhelper makes up after a failed Create
        "wsi-0123456789/11112222333",
        "wsi-0123456789/111122223333/extra",
        "wsi-0123456789",
        "",
        None,
    ],
)
def test_physical_ids_not_made_here_name_no_share(physical_id: object) -> None:
    assert ImageAccountPair.from_physical_id(physical_id) is None


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"ImageId": "ami-0123456789", "SharedAccountId": ACCOUNT}, "ImageId 'ami-0123456789'"),
        ({"ImageId": "wsi-ABC456789", "SharedAccountId": ACCOUNT}, "expected 'wsi-' followed"),
        ({"ImageId": "wsi-01234567", "SharedAccountId": ACCOUNT}, "9 to 63"),
        ({"ImageId": IMAGE, "SharedAccountId": "1111 2222 3333"}, "'1111 2222 3333'"),
        ({"ImageId": IMAGE, "SharedAccountId": "11112222333a"}, "exactly 12 digits"),
        ({"ImageId": IMAGE, "SharedAccountId": "11112222333"}, "leading zero"),
        ({"ImageId": IMAGE, "SharedAccountId": "1111222233334"}, "(13 given)"),
        ({"ImageId": IMAGE, "SharedAccountId": 11122223333}, "11122223333 is not"),
        ({"ImageId": IMAGE}, "SharedAccountId is missing: expected exactly 12 digits"),
        ({"SharedAccountId": ACCOUNT}, "ImageId is missing: expected 'wsi-'"),
        ({"ImageId": IMAGE, "SharedAccountId": OWNER}, "owns the image"),
    ],
)
def test_bad_properties_name_field_value_and_expectation(
    properties: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidShareError) as raised:
        ImageAccountPair.from_properties(properties, owner_account=OWNER)
    assert expected in str(raised.value)
    assert len(str(raised.value)) < 256


def test_good_properties_make_a_share() -> None:
    properties = {"ImageId": IMAGE, "SharedAccountId": ACCOUNT, "ServiceToken": "arn"}
    assert ImageAccountPair.from_properties(properties, owner_account=OWNER) == ImageAccountPair(
        IMAGE, ACCOUNT
    )
