"""is_literal reads strings itself; it must agree with the CDK's Token.is_unresolved."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing.core.tokens import SynthValue, is_literal, short_hash


def values() -> list[object]:
    stack = cdk.Stack(cdk.App(), "Tokens")
    text = cdk.CfnParameter(stack, "Text").value_as_string
    listed = cdk.CfnParameter(stack, "List", type="CommaDelimitedList").value_as_list
    return [
        "wsi-0123456789",
        "111122223333",
        "",
        "${NotAToken}",
        text,
        f"prefix-{text}",
        cdk.Aws.ACCOUNT_ID,
        cdk.Fn.join(",", ["a", text]),
        listed,
        ["111122223333", "444455556666"],
        ["111122223333", text],
        [],
        12,
        cdk.CfnParameter(stack, "Number", type="Number").value_as_number,
    ]


@pytest.mark.parametrize("value", values())
def test_is_literal_agrees_with_the_cdk(value: object) -> None:
    assert is_literal(value) is not cdk.Token.is_unresolved(value)


def test_an_element_of_a_list_token_is_a_token_too() -> None:
    """What iterating a ``CommaDelimitedList`` yields: the CDK calls it resolved, yet it is only
    known at deploy time."""
    stack = cdk.Stack(cdk.App(), "Element")
    (element,) = cdk.CfnParameter(stack, "List", type="CommaDelimitedList").value_as_list
    assert element.startswith("#{Token[") and not cdk.Token.is_unresolved(element)
    assert not is_literal(element)
    assert not is_literal(f"ou-{element}")


def test_stable_key_is_the_literal_itself_or_what_the_token_resolves_to() -> None:
    stack = cdk.Stack(cdk.App(), "Keys")
    text = cdk.CfnParameter(stack, "Account").value_as_string
    assert SynthValue(stack, "111122223333").key == "111122223333"
    assert SynthValue(stack, text).key == '{"Ref": "Account"}'
    assert short_hash('{"Ref": "Account"}') == short_hash('{"Ref": "Account"}')
    assert len(short_hash("x")) == 8
