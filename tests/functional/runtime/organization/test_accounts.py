"""Resolving OUs and roots to active accounts: moto's Organizations for the tree, botocore's
Stubber for what moto never answers (empty pages that carry a NextToken, a repeated token,
accounts without State), the fault layer for refusals and throttling, moto's STS for the role.

The sample organization is built once for the module (about 130 calls) and only read; the
tests that need other state make it in another account.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.retries import standard
from botocore.stub import Stubber

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_OUS_FOR_PARENT,
)
from rehearsal.faults import Fault, FaultLayer
from rehearsal.lambda_runtime import handler_in_process
from rehearsal.local_aws import LocalAws
from tests.support.organizations import (
    LAYOUT,
    SampleOrganization,
    build_sample_organization,
)

# Operation -> (client method, the key of the listed items), for the Stubber.
LISTINGS = {
    LIST_ACCOUNTS_FOR_PARENT: ("list_accounts_for_parent", "Accounts"),
    LIST_OUS_FOR_PARENT: ("list_organizational_units_for_parent", "OrganizationalUnits"),
}
OU = "ou-abcd-11111111"
CHILD = "ou-abcd-22222222"


@pytest.fixture(scope="module")
def org_accounts(local_aws: LocalAws) -> Iterator[ModuleType]:
    """The handler module, imported as Lambda imports it, talking to the local endpoint."""
    with handler_in_process(local_aws.environment) as modules:
        yield modules["organization.accounts"]


@pytest.fixture(scope="module")
def sample(local_aws: LocalAws) -> SampleOrganization:
    """The sample organization, managed by the local (default) account."""
    local_aws.reset()
    return build_sample_organization(local_aws.client("organizations"))


@pytest.fixture
def faults(local_aws: LocalAws) -> Iterator[FaultLayer]:
    """The fault layer, with counts from zero; queued faults are dropped afterwards."""
    local_aws.faults.clear()
    yield local_aws.faults
    local_aws.faults.clear()


@pytest.fixture(scope="module")
def session(org_accounts: ModuleType) -> boto3.Session:
    """The function's session, as its handler makes it (one per container)."""
    return boto3.Session()


@pytest.fixture(scope="module")
def client(org_accounts: ModuleType, session: boto3.Session, sample: SampleOrganization) -> Any:
    """An Organizations client with the function's own credentials (the management account)."""
    return org_accounts.organizations_client(session, None)


def resolve(org_accounts: ModuleType, client: Any, parents: list[str], nested: bool) -> Any:
    return org_accounts.resolve_accounts(client, parents, nested)


# --- against moto's Organizations --------------------------------------------------------------


def test_an_ou_with_nested_ous_resolves_to_their_active_accounts(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    resolved = resolve(org_accounts, client, [sample.ou_ids["Workloads"]], True)
    expected = sample.active_accounts(["Workloads"], include_nested=True)
    assert resolved.accounts == expected
    assert len(expected) == 3 + 19 + 6 + 24 + 1  # the management account moved in; one suspended
    assert sample.management_account in resolved.accounts  # the caller drops the owner
    assert not resolved.accounts & sample.suspended
    assert resolved.inactive_count == 1
    assert resolved.parents_read == 4  # Workloads, Prod, Dev, Prod/EU
    assert faults.calls[LIST_OUS_FOR_PARENT] == 4  # each OU's children listed once


def test_without_nesting_only_the_ou_itself_is_read(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    resolved = resolve(org_accounts, client, [sample.ou_ids["Workloads/Prod"]], False)
    assert resolved.accounts == sample.active_accounts(["Workloads/Prod"], False)
    assert len(resolved.accounts) == 19
    assert (resolved.inactive_count, resolved.parents_read) == (1, 1)
    assert faults.calls[LIST_OUS_FOR_PARENT] == 0


def test_an_ou_of_more_than_one_page_is_read_to_the_end(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    resolved = resolve(org_accounts, client, [sample.ou_ids["Workloads/Dev"]], False)
    assert len(resolved.accounts) == LAYOUT["Workloads/Dev"] == 24
    assert faults.calls[LIST_ACCOUNTS_FOR_PARENT] == 2  # 20 + 4


@pytest.mark.parametrize("nested", [True, False])
def test_the_root_resolves_to_the_whole_organization_or_its_own_accounts(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, nested: bool
) -> None:
    resolved = resolve(org_accounts, client, [sample.root_id], nested)
    assert resolved.accounts == sample.active_accounts([""], nested)
    if nested:
        assert len(resolved.accounts) == sum(LAYOUT.values()) + 1 - 1 == 59
        assert (resolved.inactive_count, resolved.parents_read) == (1, len(LAYOUT))
    else:
        assert len(resolved.accounts) == LAYOUT[""]
        assert (resolved.inactive_count, resolved.parents_read) == (0, 1)


def test_overlapping_parents_are_each_read_once(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    workloads, prod = sample.ou_ids["Workloads"], sample.ou_ids["Workloads/Prod"]
    resolved = resolve(org_accounts, client, [prod, workloads, prod, workloads], True)
    assert resolved.accounts == sample.active_accounts(["Workloads"], True)
    assert resolved.parents_read == 4
    assert faults.calls[LIST_OUS_FOR_PARENT] == 4


def test_an_empty_ou_resolves_to_nothing_without_an_error(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization
) -> None:
    resolved = resolve(org_accounts, client, [sample.ou_ids["Sandbox/Empty"]], True)
    assert resolved.is_empty
    assert (resolved.accounts, resolved.inactive_count, resolved.parents_read) == (
        frozenset(),
        0,
        1,
    )
    assert resolve(org_accounts, client, [], True).is_empty


def test_a_refused_read_mid_walk_fails_closed(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    prod = sample.ou_ids["Workloads/Prod"]
    denied = Fault(LIST_OUS_FOR_PARENT, "error", error_code="AccessDeniedException")
    denied.body_contains = prod
    faults.inject(denied)
    with pytest.raises(org_accounts.OrganizationsReadError) as raised:
        resolve(org_accounts, client, [sample.ou_ids["Workloads"]], True)
    assert str(raised.value) == f"{LIST_OUS_FOR_PARENT} {prod} failed: AccessDeniedException"
    assert (raised.value.operation, raised.value.target) == (LIST_OUS_FOR_PARENT, prod)
    assert faults.calls[LIST_ACCOUNTS_FOR_PARENT] >= 2  # it failed after reading some accounts


def test_an_unknown_parent_fails_closed(org_accounts: ModuleType, client: Any) -> None:
    with pytest.raises(org_accounts.OrganizationsReadError, match="ParentNotFoundException"):
        resolve(org_accounts, client, [OU], True)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retries without their (random, growing) sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.mark.usefixtures("no_backoff")
def test_throttling_is_retried_and_past_the_retries_fails_closed(
    org_accounts: ModuleType, client: Any, sample: SampleOrganization, faults: FaultLayer
) -> None:
    attempts = org_accounts.CLIENT_SETTINGS.max_attempts
    prod = [sample.ou_ids["Workloads/Prod"]]
    throttled = Fault(LIST_ACCOUNTS_FOR_PARENT, "error", error_code="TooManyRequestsException")
    faults.inject(dataclasses.replace(throttled, times=attempts - 1))
    assert len(resolve(org_accounts, client, prod, False).accounts) == 19
    assert faults.calls[LIST_ACCOUNTS_FOR_PARENT] == attempts  # the last attempt answered
    faults.clear()
    faults.inject(dataclasses.replace(throttled, times=attempts))
    with pytest.raises(org_accounts.OrganizationsReadError, match="TooManyRequestsException"):
        resolve(org_accounts, client, prod, False)
    assert faults.calls[LIST_ACCOUNTS_FOR_PARENT] == attempts


# --- the role in the management account, through moto's STS -----------------------------------

MANAGEMENT = "111111111111"
READ_ROLE = f"arn:aws:iam::{MANAGEMENT}:role/WorkspaceImageOrganizationRead"


class RecordingSession:
    """A session that records the clients asked of it (service name and arguments)."""

    def __init__(self, session: boto3.Session) -> None:
        self._session = session
        self.clients: list[tuple[str, dict[str, Any]]] = []

    def client(self, service_name: str, **kwargs: Any) -> Any:
        self.clients.append((service_name, kwargs))
        return self._session.client(service_name, **kwargs)  # type: ignore[call-overload]


def test_with_a_role_the_management_accounts_organization_is_read(
    org_accounts: ModuleType,
    session: boto3.Session,
    local_aws: LocalAws,
    sample: SampleOrganization,
    faults: FaultLayer,
) -> None:
    admin = local_aws.session_in(MANAGEMENT, "Admin")
    other = build_sample_organization(local_aws.client("organizations", admin), {"": 0, "Team": 3})
    recording = RecordingSession(session)
    client = org_accounts.organizations_client(recording, READ_ROLE)
    resolved = org_accounts.resolve_accounts(client, [other.ou_ids["Team"]], True)
    assert resolved.accounts == other.active_accounts(["Team"], True)
    assert len(resolved.accounts) == 3

    (sts, _), (organizations, arguments) = recording.clients
    assert (sts, organizations) == ("sts", "organizations")
    credentials = {k: v for k, v in arguments.items() if k.startswith("aws_")}
    own = session.get_credentials()
    assert own is not None and credentials["aws_access_key_id"] != own.access_key
    identity = session.client("sts", **credentials).get_caller_identity()
    assert identity["Arn"] == (
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/WorkspaceImageOrganizationRead/"
        "workspace-image-org-share"
    )
    # The function's own account does not manage that organization: without the role, it fails.
    direct = org_accounts.organizations_client(session, None)
    with pytest.raises(org_accounts.OrganizationsReadError, match="ParentNotFoundException"):
        org_accounts.resolve_accounts(direct, [other.ou_ids["Team"]], True)


def test_a_role_that_cannot_be_assumed_fails_closed(
    org_accounts: ModuleType, faults: FaultLayer
) -> None:
    faults.inject(Fault("AssumeRole", "error", error_code="AccessDenied"))
    with pytest.raises(org_accounts.OrganizationsReadError) as raised:
        org_accounts.organizations_client(boto3.Session(), READ_ROLE)
    # STS answers AccessDenied alike for a missing role and a refusing trust: both are named.
    assert str(raised.value) == (
        f"AssumeRole {READ_ROLE} failed: AccessDenied: {org_accounts.ASSUME_ROLE_DENIED_HINT}"
    )
    assert raised.value.code == "AccessDenied"


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("eu-west-1", "https://organizations.us-east-1.amazonaws.com/"),
        ("ap-southeast-2", "https://organizations.us-east-1.amazonaws.com/"),
        ("cn-north-1", "https://organizations.cn-northwest-1.amazonaws.com.cn/"),
        ("us-gov-east-1", "https://organizations.us-gov-west-1.amazonaws.com/"),
    ],
)
def test_without_a_local_endpoint_calls_go_to_the_partitions_global_endpoint(
    org_accounts: ModuleType,
    session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
    region: str,
    endpoint: str,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    client = org_accounts.organizations_client(session, None)
    sent: list[Any] = []

    class Sent(Exception):
        pass

    def capture(request: Any, **_: Any) -> None:
        sent.append(request)
        raise Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(Sent):
        client.list_accounts_for_parent(ParentId="r-abcd")
    (request,) = sent
    assert request.url == endpoint
    signing_scope = f"/{endpoint.split('.')[1]}/organizations/aws4_request"
    assert signing_scope in request.headers["Authorization"].decode()


# --- what moto never answers: botocore's Stubber -----------------------------------------------


@pytest.fixture
def stubbed(org_accounts: ModuleType) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "organizations", region_name="us-east-1", config=org_accounts.CLIENT_SETTINGS.config()
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _account(account_id: str, **fields: str) -> dict[str, Any]:
    return {"Id": account_id, **(fields or {"State": "ACTIVE", "Status": "ACTIVE"})}


def _page(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    return {key: items, **({"NextToken": token} if token else {})}


def _expect(
    stubber: Stubber, operation: str, parent: str, pages: list[list[dict[str, Any]]]
) -> None:
    """Queue ``pages`` for one listing: each but the last carries a NextToken."""
    method, key = LISTINGS[operation]
    for number, items in enumerate(pages):
        token = f"{parent}-t{number + 1}" if number < len(pages) - 1 else None
        request: dict[str, Any] = {"ParentId": parent, "MaxResults": 20}
        if number:
            request["NextToken"] = f"{parent}-t{number}"
        stubber.add_response(method, _page(key, items, token), request)


def test_empty_pages_with_a_next_token_do_not_end_a_listing(
    org_accounts: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    suspended = _account("333333333333", State="SUSPENDED", Status="SUSPENDED")
    _expect(
        stubber,
        LIST_ACCOUNTS_FOR_PARENT,
        OU,
        [[], [_account("111111111111")], [], [suspended, _account("222222222222")]],
    )
    _expect(stubber, LIST_OUS_FOR_PARENT, OU, [[], [], [{"Id": CHILD}], []])
    _expect(stubber, LIST_ACCOUNTS_FOR_PARENT, CHILD, [[], [], [_account("444444444444")]])
    _expect(stubber, LIST_OUS_FOR_PARENT, CHILD, [[], []])
    resolved = org_accounts.resolve_accounts(client, [OU], True)
    assert resolved.accounts == {"111111111111", "222222222222", "444444444444"}
    assert (resolved.inactive_count, resolved.parents_read) == (1, 2)


@pytest.mark.parametrize(
    ("fields", "active"),
    [
        ({"State": "ACTIVE", "Status": "ACTIVE"}, True),
        ({"Status": "ACTIVE"}, True),  # an SDK that does not know State
        ({"State": "ACTIVE"}, True),  # after Status is retired
        ({"State": "PENDING_ACTIVATION", "Status": "ACTIVE"}, False),  # State wins
        ({"State": "SUSPENDED", "Status": "SUSPENDED"}, False),
        ({"State": "PENDING_CLOSURE", "Status": "PENDING_CLOSURE"}, False),
        ({"State": "CLOSED", "Status": "SUSPENDED"}, False),
        ({"Status": "SUSPENDED"}, False),
    ],
)
def test_state_is_read_where_present_else_status(
    org_accounts: ModuleType, stubbed: tuple[Any, Stubber], fields: dict[str, str], active: bool
) -> None:
    client, stubber = stubbed
    _expect(stubber, LIST_ACCOUNTS_FOR_PARENT, OU, [[_account("111111111111", **fields)]])
    resolved = org_accounts.resolve_accounts(client, [OU], False)
    assert resolved.accounts == ({"111111111111"} if active else set())
    assert resolved.inactive_count == (0 if active else 1)


def test_an_account_without_state_or_status_fails_closed(
    org_accounts: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    _expect(stubber, LIST_ACCOUNTS_FOR_PARENT, OU, [[{"Id": "111111111111"}]])
    with pytest.raises(org_accounts.OrganizationsReadError, match="AccountWithoutStateOrStatus"):
        org_accounts.resolve_accounts(client, [OU], False)


def test_a_repeated_next_token_fails_closed_instead_of_looping(
    org_accounts: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, stubber = stubbed
    method, key = LISTINGS[LIST_ACCOUNTS_FOR_PARENT]
    first = {"ParentId": OU, "MaxResults": 20}
    stubber.add_response(method, _page(key, [], "same"), first)
    stubber.add_response(method, _page(key, [], "same"), {**first, "NextToken": "same"})
    with pytest.raises(org_accounts.OrganizationsReadError, match="PaginationError"):
        org_accounts.resolve_accounts(client, [OU], False)


def test_malformed_parent_ids_are_refused_before_any_call(
    org_accounts: ModuleType, stubbed: tuple[Any, Stubber]
) -> None:
    client, _ = stubbed
    with pytest.raises(ValueError) as raised:
        org_accounts.resolve_accounts(client, [OU, "ou-abc-1", "111122223333"], True)
    message = str(raised.value)
    assert "'ou-abc-1'" in message and "'111122223333'" in message and OU not in message
