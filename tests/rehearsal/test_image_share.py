"""WorkspaceImageShare through the rehearsal: 100 accounts under throttling, one removed;
RETAIN leaves shares behind."""

from __future__ import annotations

from pathlib import Path

from rehearsal.local_aws import shared_accounts
from rehearsal.scenario import Rehearsal, synthesize_stack

APP = "python3 -m rehearsal.apps.image_share"
GRANT = "UpdateWorkspaceImagePermission"
ACCOUNTS = [f"{100000000000 + n * 7919:012d}" for n in range(100)]


def test_hundred_accounts_under_throttling_then_one_removed(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    everyone = synthesize_stack(
        tmp_path / "100", APP, imageId=image_id, accounts=",".join(ACCOUNTS)
    ).shares
    removed, *kept = ACCOUNTS
    fewer = synthesize_stack(tmp_path / "99", APP, imageId=image_id, accounts=",".join(kept)).shares
    assert len(everyone) == 100 and len(fewer) == 99
    # WorkSpaces answers at most 5 grants a second; CloudFormation starts whatever is ready.
    rehearsal.aws.faults.limit_rate(GRANT, per_second=5, burst=5)
    stack = rehearsal.stack()
    stack.max_parallel = 100
    assert stack.deploy(everyone), [s.describe() for s in stack.steps if s.response.reason]
    assert rehearsal.aws.faults.throttled[GRANT] > 0, "the rate limit never throttled"
    assert shared_accounts(rehearsal.aws, image_id) == set(ACCOUNTS)

    steps_before = len(stack.steps)
    assert stack.deploy(fewer)
    assert [s.request_type for s in stack.steps[steps_before:]] == ["Delete"]
    assert shared_accounts(rehearsal.aws, image_id) == set(kept)
    assert removed not in shared_accounts(rehearsal.aws, image_id)


def test_retain_leaves_the_shares_when_the_stack_is_deleted(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    kept = synthesize_stack(
        tmp_path / "retain", APP, imageId=image_id, accounts=",".join(ACCOUNTS[:2]), retain="true"
    )
    assert all(share.retain for share in kept.shares.values())
    stack = rehearsal.stack()
    assert stack.deploy(kept.shares)
    assert stack.delete()
    assert [s.request_type for s in stack.steps] == ["Create", "Create"]
    assert shared_accounts(rehearsal.aws, image_id) == set(ACCOUNTS[:2])
