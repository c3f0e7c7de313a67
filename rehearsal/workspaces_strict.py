"""WorkSpaces' image permission calls as strict as the documented service, where moto is not.

- ``UpdateWorkspaceImagePermission`` with ``AllowCopyImage`` false for an account the image is
  not shared with is refused: the API reference says a permission "can be revoked only after
  an image has been shared". It names no error code for this; InvalidParameterValuesException
  is used, and the handler must be correct for any refusal that is not throttling.
- Either call on an image that does not exist: ResourceNotFoundException (moto: a KeyError).
- ``DescribeWorkspaceImagePermissions`` pages: ``MaxResults`` 1 to 25 (25 when omitted), with
  ``NextToken``; moto returns everything at once.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.workspaces.models import workspaces_backends

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    DESCRIBE_PERMISSIONS,
    GRANT_OR_REVOKE,
)

PAGE_SIZE_LIMIT = 25


class WorkSpacesRefusal(Exception):
    """WorkSpaces answers 400 with this error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _image(account_id: str, region: str, image_id: str) -> Any:
    image = workspaces_backends[account_id][region].workspace_images.get(image_id)
    if image is None:
        raise WorkSpacesRefusal(
            "ResourceNotFoundException", f"The image {image_id} could not be found."
        )
    return image


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise WorkSpacesRefusal("InvalidParameterValuesException", "Invalid NextToken") from error


def answer(
    operation: str, request: dict[str, Any], account_id: str, region: str
) -> dict[str, Any] | None:
    """The strict answer to a WorkSpaces request, or None to let moto serve it. Raises
    WorkSpacesRefusal for what the service refuses."""
    if operation == GRANT_OR_REVOKE:
        image = _image(account_id, region, str(request.get("ImageId")))
        shared = {"SharedAccountId": request.get("SharedAccountId")} in image.image_permissions
        if request.get("AllowCopyImage") is False and not shared:
            raise WorkSpacesRefusal(
                "InvalidParameterValuesException",
                f"The image is not shared with account {request.get('SharedAccountId')}.",
            )
        return None
    if operation == DESCRIBE_PERMISSIONS:
        image_id = str(request.get("ImageId"))
        size = request.get("MaxResults", PAGE_SIZE_LIMIT)
        if not isinstance(size, int) or not 1 <= size <= PAGE_SIZE_LIMIT:
            raise WorkSpacesRefusal(
                "InvalidParameterValuesException",
                f"MaxResults {size!r} is out of range: expected 1 to {PAGE_SIZE_LIMIT}",
            )
        permissions = list(_image(account_id, region, image_id).image_permissions)
        start = _offset(request["NextToken"]) if request.get("NextToken") else 0
        page: dict[str, Any] = {
            "ImageId": image_id,
            "ImagePermissions": permissions[start : start + size],
        }
        if start + size < len(permissions):
            page["NextToken"] = _token(start + size)
        return page
    return None
