"""An organization in moto's Organizations, run from a management account of its own.

The management account is not the image account (as the README recommends): the sharing
stack's function reaches Organizations only through the reader role that a stack of the
management account makes. Changes (an account joining, leaving, closed; an OU deleted) are
made through the API and recorded with the Lambda service's time, so the invariant can tell a
change the scheduled run has not seen yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.organizations.models import organizations_backends

from rehearsal.local_aws import LocalAws

MANAGEMENT_ACCOUNT_ID = "210987654321"


@dataclass
class Organization:
    """``Organization.create(aws, clock)``: the root, OUs by path, and the change log."""

    client: Any
    root_id: str
    clock: Callable[[], float]
    management_account: str
    ou_ids: dict[str, str] = field(default_factory=dict)
    changes: list[tuple[float, str]] = field(default_factory=list)
    """(time, account) of every change of an account's place or state."""

    @classmethod
    def create(
        cls, aws: LocalAws, clock: Callable[[], float], management: str = MANAGEMENT_ACCOUNT_ID
    ) -> Organization:
        client = aws.client("organizations", aws.session_in(management))
        client.create_organization(FeatureSet="ALL")
        return cls(client, client.list_roots()["Roots"][0]["Id"], clock, management)

    def parent_id(self, path: str) -> str:
        """The root's ID for ``""``, else the OU's."""
        return self.root_id if path == "" else self.ou_ids[path]

    def populate(self, layout: dict[str, int]) -> dict[str, list[str]]:
        """Make the OUs of ``layout`` (path -> accounts directly in it; parents first) and
        their accounts; returns the accounts made, by path."""
        made = {}
        for path, count in layout.items():
            if path and path not in self.ou_ids:
                self.add_ou(path)
            made[path] = self.add_accounts(path, count)
        return made

    def add_ou(self, path: str) -> str:
        parent, _, name = path.rpartition("/")
        self.ou_ids[path] = self.client.create_organizational_unit(
            ParentId=self.parent_id(parent), Name=name
        )["OrganizationalUnit"]["Id"]
        return self.ou_ids[path]

    def delete_ou(self, path: str) -> None:
        """Delete an OU, which Organizations allows only once it holds no account or OU (moto
        deletes any)."""
        ou_id = self.ou_ids[path]
        for operation, key in (
            ("list_accounts_for_parent", "Accounts"),
            ("list_organizational_units_for_parent", "OrganizationalUnits"),
        ):
            if getattr(self.client, operation)(ParentId=ou_id)[key]:
                raise ValueError(f"OU {path} is not empty: Organizations refuses to delete it")
        self.client.delete_organizational_unit(OrganizationalUnitId=ou_id)
        self.changes.append((self.clock(), ou_id))

    def add_accounts(self, path: str, count: int, prefix: str = "member") -> list[str]:
        """Create ``count`` accounts (moto puts them in the root) and move them to ``path``."""
        made = []
        for _ in range(count):
            name = f"{prefix}-{len(self.changes)}"
            account = self.client.create_account(AccountName=name, Email=f"{name}@example.com")[
                "CreateAccountStatus"
            ]["AccountId"]
            self.changes.append((self.clock(), account))
            if path:
                self.move(account, "", path)
            made.append(account)
        return made

    def add_existing_account(self, account_id: str, path: str) -> None:
        """``account_id`` joins (by invitation) into ``path``. moto has no invitations: an
        account is created and given that ID in moto's backend."""
        (created,) = self.add_accounts("", 1, prefix="invited")
        backend = organizations_backends[self.management_account]["aws"]
        backend.get_account_by_id(created).id = account_id
        masters = organizations_backends.master_accounts
        masters[account_id] = masters.pop(created)
        if path:
            self.move(account_id, "", path)

    def move(self, account: str, source: str, destination: str) -> None:
        self.client.move_account(
            AccountId=account,
            SourceParentId=self.parent_id(source),
            DestinationParentId=self.parent_id(destination),
        )
        self.changes.append((self.clock(), account))

    def close(self, account: str) -> None:
        self.client.close_account(AccountId=account)
        self.changes.append((self.clock(), account))

    def remove(self, account: str) -> None:
        """The account leaves the organization."""
        self.client.remove_account_from_organization(AccountId=account)
        self.changes.append((self.clock(), account))

    def changed_since(self, moment: float) -> set[str]:
        """Accounts whose place or state changed after ``moment``."""
        return {account for at, account in self.changes if at > moment}

    def active_accounts(self, parent_ids: Iterable[str], include_nested: bool) -> set[str]:
        """The ACTIVE accounts directly in ``parent_ids`` and, if ``include_nested``, below,
        read from moto's backend (the invariant's view, past any injected fault)."""
        backend = organizations_backends[self.management_account]["aws"]
        parents = set(parent_ids)
        while include_nested:
            below = {ou.id for ou in backend.ou if ou.parent_id in parents} - parents
            if not below:
                break
            parents |= below
        return {a.id for a in backend.accounts if a.parent_id in parents and a.state == "ACTIVE"}
