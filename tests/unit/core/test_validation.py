"""Synth-time checks: literal values only, messages naming path, keyword, property and value."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing.core.tokens import SynthValue
from cdk_workspaces_image_sharing.core.validation import check_account_id, check_image_id

OWNER = "123456789012"


def owned_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Owned", env=cdk.Environment(account=OWNER, region="us-east-1"))


def test_a_malformed_image_id_names_path_keyword_property_and_value() -> None:
    stack = owned_stack()
    message = "Owned: image_id (ImageId) 'ami-0123456789' is not a WorkSpaces image ID: expected"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        check_image_id(stack, SynthValue(stack, "ami-0123456789"))


def test_the_keyword_is_the_one_the_user_passed() -> None:
    stack = owned_stack()
    with pytest.raises(ValueError, match=re.escape("account_ids[3] (SharedAccountId) '12'")):
        check_account_id(stack, SynthValue(stack, "12"), keyword="account_ids[3]")


def test_tokens_are_left_to_the_function() -> None:
    stack = owned_stack()
    image = cdk.CfnParameter(stack, "Image").value_as_string
    account = cdk.CfnParameter(stack, "Account").value_as_string
    check_image_id(stack, SynthValue(stack, image))
    check_account_id(stack, SynthValue(stack, account))


def test_the_stacks_own_account_is_refused_only_when_known() -> None:
    stack = owned_stack()
    with pytest.raises(ValueError, match="is the account that owns the image"):
        check_account_id(stack, SynthValue(stack, OWNER))
    anywhere = cdk.Stack(cdk.App(), "Anywhere")  # account unknown at synth
    check_account_id(anywhere, SynthValue(anywhere, OWNER))


def test_well_formed_values_pass() -> None:
    stack = owned_stack()
    check_image_id(stack, SynthValue(stack, "wsi-0123456789"))
    check_account_id(stack, SynthValue(stack, "111122223333"))
