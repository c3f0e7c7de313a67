"""One image shared with one account: its properties' checks, and its physical ID."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .contract import (
    ACCOUNT_ID_PATTERN,
    ACCOUNT_ID_PROPERTY,
    IMAGE_ID_PATTERN,
    IMAGE_ID_PROPERTY,
    PAIR_PHYSICAL_ID_PATTERN,
)

_IMAGE_ID = re.compile(IMAGE_ID_PATTERN)
_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)
_PHYSICAL_ID = re.compile(PAIR_PHYSICAL_ID_PATTERN)

IMAGE_ID_EXPECTED = "'wsi-' followed by 9 to 63 lowercase letters or digits"
ACCOUNT_ID_EXPECTED = "exactly 12 digits, as a string"


class InvalidShareError(ValueError):
    """A property of the share is missing or malformed; the message names field, value and fix."""


def image_id_problem(value: object, field: str = IMAGE_ID_PROPERTY) -> str | None:
    """Say what is wrong with an image ID, or return None when it is well formed.

    The message starts with ``field`` (the property name, or at synth the keyword the user
    passed), then the value and what is expected.
    """
    if isinstance(value, str) and _IMAGE_ID.fullmatch(value):
        return None
    return f"{field} {value!r} is not a WorkSpaces image ID: expected {IMAGE_ID_EXPECTED}"


def account_id_problem(
    value: object, owner_account: str | None = None, field: str = ACCOUNT_ID_PROPERTY
) -> str | None:
    """Say what is wrong with an account ID to share with, or return None when it is usable.

    ``owner_account`` is the account that owns the image; when given, sharing with it is refused.
    The message starts with ``field``, as for ``image_id_problem``.
    """
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        if owner_account is not None and value == owner_account:
            return (
                f"{field} {value!r} is the account that owns the image: "
                "expected another account to share with"
            )
        return None
    hint = ""
    digits = str(value)
    if digits.isdigit() and len(digits) < 12:
        hint = f" ({len(digits)} given: pass it as a string so a leading zero is kept)"
    elif digits.isdigit():
        hint = f" ({len(digits)} given)"
    return f"{field} {value!r} is not an AWS account ID: expected {ACCOUNT_ID_EXPECTED}{hint}"


@dataclass(frozen=True)
class ImageAccountPair:
    """One image shared with one account."""

    image_id: str
    account_id: str

    @property
    def physical_id(self) -> str:
        """The CloudFormation physical ID: ``"<ImageId>/<SharedAccountId>"``."""
        return f"{self.image_id}/{self.account_id}"

    def properties(self) -> dict[str, str]:
        """The custom resource's properties, which are also the attributes the handler returns
        (``Fn::GetAtt`` names): ``{"ImageId": …, "SharedAccountId": …}``."""
        return {IMAGE_ID_PROPERTY: self.image_id, ACCOUNT_ID_PROPERTY: self.account_id}

    @classmethod
    def from_physical_id(cls, physical_id: object) -> ImageAccountPair | None:
        """Return the share a physical ID names, or None when this handler did not make it."""
        if not isinstance(physical_id, str):
            return None
        match = _PHYSICAL_ID.fullmatch(physical_id)
        return cls(match.group(1), match.group(2)) if match else None

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, object], owner_account: str | None = None
    ) -> ImageAccountPair:
        """Read and check the custom resource's properties.

        Raises ``InvalidShareError`` naming every missing or malformed property.
        """
        expected = {IMAGE_ID_PROPERTY: IMAGE_ID_EXPECTED, ACCOUNT_ID_PROPERTY: ACCOUNT_ID_EXPECTED}
        problems = [
            f"{name} is missing: expected {what}"
            for name, what in expected.items()
            if properties.get(name) in (None, "")
        ]
        if not problems:
            problems = [
                problem
                for problem in (
                    image_id_problem(properties[IMAGE_ID_PROPERTY]),
                    account_id_problem(properties[ACCOUNT_ID_PROPERTY], owner_account),
                )
                if problem
            ]
        if problems:
            raise InvalidShareError("; ".join(problems))
        return cls(str(properties[IMAGE_ID_PROPERTY]), str(properties[ACCOUNT_ID_PROPERTY]))
