"""Exact WorkSpaces error codes (botocore's Stubber) and paging of the permission list."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cdk_workspaces_image_sharing.pair.function import FUNCTION_TIMEOUT, SERVICE_TIMEOUT
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    ImageAccountPair,
)

SHARE = ImageAccountPair(
    "wsi-" + "a" * 63, "111122223333"
)  # the longest image ID makes the longest Reason
GRANT = {"ImageId": SHARE.image_id, "AllowCopyImage": True, "SharedAccountId": SHARE.account_id}


@pytest.fixture
def permissions(handler_modules: dict[str, ModuleType]) -> ModuleType:
    return handler_modules["workspaces_api"]


@pytest.fixture
def stubbed(permissions: ModuleType) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("workspaces", config=permissions.CLIENT_SETTINGS.config())
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "advice", "changed_nothing"),
    [
        ("ResourceNotFoundException", "check ImageId", True),
        ("ResourceUnavailableException", "not AVAILABLE yet", True),
        ("InvalidParameterValuesException", "rejected ImageId or SharedAccountId", True),
        ("OperationNotSupportedException", "BYOL", True),
        ("ThrottlingException", "retry later", False),
    ],
)
def test_grant_errors_become_short_reasons(
    permissions: ModuleType,
    stubbed: tuple[Any, Stubber],
    code: str,
    advice: str,
    changed_nothing: bool,
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code=code, expected_params=GRANT
    )
    with pytest.raises(permissions.ImagePermissionError) as raised:
        permissions.grant(client, SHARE)
    reason = str(raised.value)
    assert code in reason and SHARE.image_id in reason and SHARE.account_id in reason
    assert advice in reason
    assert len(reason) < 256
    assert raised.value.changed_nothing is changed_nothing


def test_revoke_of_a_deleted_image_reports_nothing_to_do(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code="ResourceNotFoundException"
    )
    assert permissions.revoke(client, SHARE) is False


def test_revoke_access_denied_fails(permissions: ModuleType, stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code="AccessDeniedException"
    )
    with pytest.raises(permissions.ImagePermissionError, match=r"Unsharing .* AccessDenied"):
        permissions.revoke(client, SHARE)


def _page(accounts: list[str], token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "ImageId": SHARE.image_id,
        "ImagePermissions": [{"SharedAccountId": a} for a in accounts],
    }
    if token:
        page["NextToken"] = token
    return page


def test_shared_accounts_reads_every_page(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    first = {"ImageId": SHARE.image_id, "MaxResults": 25}
    others = [f"{n:012d}" for n in range(25)]
    stubber.add_response("describe_workspace_image_permissions", _page(others, "t1"), first)
    stubber.add_response(
        "describe_workspace_image_permissions", _page([], "t2"), {**first, "NextToken": "t1"}
    )
    stubber.add_response(
        "describe_workspace_image_permissions",
        _page([SHARE.account_id], None),
        {**first, "NextToken": "t2"},
    )
    assert permissions.shared_accounts(client, SHARE.image_id) == {*others, SHARE.account_id}


def test_refused_revoke_of_an_unlisted_account_succeeds(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code="InvalidParameterValuesException"
    )
    stubber.add_response("describe_workspace_image_permissions", _page(["222233334444"], None))
    assert permissions.revoke(client, SHARE) is True


def test_refused_revoke_of_a_listed_account_fails(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code="OperationNotSupportedException"
    )
    stubber.add_response("describe_workspace_image_permissions", _page([SHARE.account_id], None))
    with pytest.raises(permissions.ImagePermissionError, match="OperationNotSupportedException"):
        permissions.revoke(client, SHARE)


def test_throttled_revoke_fails_without_reading(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "update_workspace_image_permission", service_error_code="ThrottlingException"
    )
    with pytest.raises(permissions.ImagePermissionError, match="ThrottlingException"):
        permissions.revoke(client, SHARE)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_access_denied_grant_is_retried_while_iam_propagates(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error(
            "update_workspace_image_permission", service_error_code="AccessDeniedException"
        )
    stubber.add_response("update_workspace_image_permission", {}, GRANT)
    clock = FakeClock()
    permissions.grant(client, SHARE, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [5, 5, 5]


def test_access_denied_grant_fails_after_the_propagation_window(
    permissions: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    for _ in range(7):
        stubber.add_client_error(
            "update_workspace_image_permission", service_error_code="AccessDeniedException"
        )
    clock = FakeClock()
    with pytest.raises(permissions.ImagePermissionError, match="check its IAM policy") as raised:
        permissions.grant(client, SHARE, sleep=clock.sleep, clock=clock)
    assert raised.value.changed_nothing is True
    assert sum(clock.sleeps) == permissions.ACCESS_DENIED_RETRY_SECONDS


def test_worst_case_create_fits_inside_the_function_timeout(permissions: ModuleType) -> None:
    crhelper_margin_seconds = 0.5  # crhelper answers FAILED this long before the Timeout
    # One grant (all its attempts) after the whole AccessDenied window.
    worst = (
        permissions.ACCESS_DENIED_RETRY_SECONDS
        + permissions.CLIENT_SETTINGS.worst_case_call_seconds()
    )
    assert worst < FUNCTION_TIMEOUT.to_seconds() - crhelper_margin_seconds


def test_a_silent_function_fails_the_stack_within_15_minutes() -> None:
    assert FUNCTION_TIMEOUT.to_seconds() < SERVICE_TIMEOUT.to_seconds() <= 15 * 60
