"""A sample organization in moto's Organizations: nested OUs, about 60 accounts, one suspended.

Built through the API, as an admin would (moto puts every new account in the root; it is then
moved), so it costs about 130 calls: build it once per test module where the tests only read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    ORGANIZATIONS_READ_OPERATIONS,
)

# OU path ("" is the root) -> how many accounts to create directly in it. Parents come first.
# "Workloads/Dev" holds more than one page (moto pages by 20); "Sandbox/Empty" holds nothing.
LAYOUT = {
    "": 2,
    "Workloads": 3,
    "Workloads/Prod": 20,
    "Workloads/Prod/EU": 6,
    "Workloads/Dev": 24,
    "Sandbox": 4,
    "Sandbox/Empty": 0,
}
SUSPENDED_IN = "Workloads/Prod"  # one of its accounts is closed (SUSPENDED)
MANAGEMENT_IN = "Workloads"  # the management account (the caller's) is moved into this OU


@dataclass
class SampleOrganization:
    """What was built: IDs by path, and which accounts sit directly in each parent."""

    root_id: str
    management_account: str
    ou_ids: dict[str, str] = field(default_factory=dict)  # OU path -> OU ID
    accounts: dict[str, list[str]] = field(default_factory=dict)  # path -> accounts directly in it
    suspended: set[str] = field(default_factory=set)

    def parent_id(self, path: str) -> str:
        """The root's ID for ``""``, else the OU's."""
        return self.root_id if path == "" else self.ou_ids[path]

    def active_accounts(self, paths: Iterable[str], include_nested: bool) -> set[str]:
        """The active accounts directly in ``paths`` and, if ``include_nested``, below them."""
        chosen = set(paths)
        accounts: set[str] = set()
        for path, members in self.accounts.items():
            below = any(
                path == p or (include_nested and (p == "" or path.startswith(f"{p}/")))
                for p in chosen
            )
            if below:
                accounts.update(members)
        return accounts - self.suspended


def build_sample_organization(
    client: Any, layout: dict[str, int] | None = None
) -> SampleOrganization:
    """Create an organization with ``client``'s account as management account, the OUs and
    accounts of ``layout`` (default ``LAYOUT``), one account of ``SUSPENDED_IN`` closed and the
    management account moved into ``MANAGEMENT_IN`` (when those paths are in the layout)."""
    layout = LAYOUT if layout is None else layout
    client.create_organization(FeatureSet="ALL")
    root_id = client.list_roots()["Roots"][0]["Id"]
    (management,) = client.list_accounts_for_parent(ParentId=root_id)["Accounts"]
    sample = SampleOrganization(root_id, management["Id"])
    for number, (path, count) in enumerate(layout.items()):
        if path:
            parent, _, name = path.rpartition("/")
            sample.ou_ids[path] = client.create_organizational_unit(
                ParentId=sample.parent_id(parent), Name=name
            )["OrganizationalUnit"]["Id"]
        sample.accounts[path] = []
        for index in range(count):
            name = f"account-{number}-{index}"
            account_id = client.create_account(AccountName=name, Email=f"{name}@example.com")[
                "CreateAccountStatus"
            ]["AccountId"]
            if path:
                client.move_account(
                    AccountId=account_id,
                    SourceParentId=root_id,
                    DestinationParentId=sample.parent_id(path),
                )
            sample.accounts[path].append(account_id)
    sample.accounts.setdefault("", []).append(sample.management_account)
    if MANAGEMENT_IN in sample.ou_ids:
        client.move_account(
            AccountId=sample.management_account,
            SourceParentId=root_id,
            DestinationParentId=sample.ou_ids[MANAGEMENT_IN],
        )
        sample.accounts[""].remove(sample.management_account)
        sample.accounts[MANAGEMENT_IN].append(sample.management_account)
    if sample.accounts.get(SUSPENDED_IN):
        closed = sample.accounts[SUSPENDED_IN][0]
        client.close_account(AccountId=closed)
        sample.suspended.add(closed)
    return sample


def reader_trust_policy(image_account: str, role_name_prefix: str) -> dict[str, Any]:
    """The trust policy WorkspaceImageOrganizationReaderRole gives its role: the image account,
    on condition that the caller is a role whose name starts with ``role_name_prefix``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{image_account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {
                        "aws:PrincipalArn": f"arn:aws:iam::{image_account}:role/{role_name_prefix}*"
                    }
                },
            }
        ],
    }


def reader_policy() -> dict[str, Any]:
    """The read policy WorkspaceImageOrganizationReaderRole gives its role (on every parent)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [f"organizations:{name}" for name in ORGANIZATIONS_READ_OPERATIONS],
                "Resource": "*",
            }
        ],
    }
