"""The organization share scenarios' world: a rehearsal, its organization (nested OUs, one
closed account, the image owner inside), the example organization app and an image."""

from __future__ import annotations

from dataclasses import dataclass

from rehearsal.local_aws import ACCOUNT_ID
from rehearsal.organization import MANAGEMENT_ACCOUNT_ID, Organization
from rehearsal.organization_stacks import READER_STACK, SHARING_STACK, OrganizationApp
from rehearsal.scenario import Rehearsal
from rehearsal.stack_engine import StackEngine

LAYOUT = {"Workloads": 2, "Workloads/Prod": 3, "Sandbox": 2}
CLOSED_IN = "Workloads/Prod"  # its first account is closed (SUSPENDED)


@dataclass
class Scene:
    """What a scenario starts from; ``made`` holds the accounts made in each OU, by path."""

    run: Rehearsal
    organization: Organization
    made: dict[str, list[str]]
    app: OrganizationApp
    image_id: str

    @classmethod
    def build(cls, run: Rehearsal, app: OrganizationApp, image_id: str) -> Scene:
        organization = run.create_organization()
        made = organization.populate(LAYOUT)
        organization.add_existing_account(ACCOUNT_ID, "Workloads/Prod")  # the image owner
        organization.close(made[CLOSED_IN][0])
        return cls(run, organization, made, app, image_id)

    @property
    def workloads(self) -> str:
        return self.organization.ou_ids["Workloads"]

    @property
    def sandbox(self) -> str:
        return self.organization.ou_ids["Sandbox"]

    def active(self, *paths: str) -> set[str]:
        """The active accounts made directly in ``paths``."""
        accounts = {a for path in paths for a in self.made[path]}
        return accounts - {self.made[CLOSED_IN][0]}

    def deploy_reader(self) -> StackEngine:
        reader = self.run.stack(READER_STACK, MANAGEMENT_ACCOUNT_ID)
        assert reader.deploy(self.app.reader)
        return reader

    def deployed(self, parents: list[str]) -> StackEngine:
        """The reader role's stack, then the sharing stack sharing with ``parents``."""
        self.deploy_reader()
        sharing = self.run.stack(SHARING_STACK)
        template = self.app.sharing_for(self.image_id, parents)
        assert sharing.deploy(template), [s.describe() for s in sharing.steps]
        return sharing

    def shared(self) -> frozenset[str]:
        """What WorkSpaces lists for the image."""
        return self.run.aws.shared_accounts(self.image_id)
