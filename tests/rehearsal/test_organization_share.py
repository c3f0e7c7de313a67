"""The organization share end to end through the stand-in: the example app's reader role stack
in the management account, its sharing stack in the image account, both functions in
Lambda-like containers on the runtime's SDK and the virtual clock, the hourly rule fired by the
stand-in's EventBridge, Organizations answering with ``State`` only, STS evaluating the reader
role's trust policy.

Every stack operation and every stretch of schedules ends with the invariant check
(``rehearsal.invariant``).
"""

from __future__ import annotations

from rehearsal.local_aws import ACCOUNT_ID, shared_accounts
from rehearsal.organization import MANAGEMENT_ACCOUNT_ID
from rehearsal.organization_stacks import OrganizationApp
from rehearsal.scenario import Rehearsal

HOUR = 3600.0


def test_the_readme_lifecycle_on_nested_ous(
    organization_rehearsal: Rehearsal, organization_app: OrganizationApp, image_id: str
) -> None:
    run = organization_rehearsal
    organization = run.organization
    assert organization is not None
    made = organization.populate({"Workloads": 2, "Workloads/Prod": 3, "Sandbox": 2})
    organization.add_existing_account(ACCOUNT_ID, "Workloads/Prod")  # the image owner
    suspended = made["Workloads/Prod"][0]
    organization.close(suspended)
    workloads = organization.ou_ids["Workloads"]

    reader = run.stack("OrganizationReader", MANAGEMENT_ACCOUNT_ID)
    assert reader.deploy(organization_app.reader)
    sharing = run.stack("ImageSharing")
    assert sharing.deploy(organization_app.sharing_for(image_id, [workloads]))
    expected = set(made["Workloads"]) | set(made["Workloads/Prod"]) - {suspended}
    assert shared_accounts(run.aws, image_id) == expected

    (joined,) = organization.add_accounts("Workloads/Prod", 1)
    leaving = made["Workloads"][0]
    organization.move(leaving, "Workloads", "Sandbox")
    closed = made["Workloads/Prod"][1]
    organization.close(closed)
    assert run.advance(HOUR) == 1
    assert shared_accounts(run.aws, image_id) == expected - {leaving, closed} | {joined}

    assert sharing.delete()
    assert shared_accounts(run.aws, image_id) == set()
