"""WorkspaceImageShare through the rehearsal: 100 accounts, every grant throttled twice, at most
10 at once; then one account removed; RETAIN leaves shares behind."""

from __future__ import annotations

from pathlib import Path

from cdk_workspaces_image_sharing import MAX_CONCURRENT_SHARES
from rehearsal.scenario import Rehearsal, synthesize_stack
from tests.support.template_checks import cfn_lint_errors, templates_in
from tests.support.values import GRANT, sample_accounts

APP = "python3 -m examples.image_share_app"
ACCOUNTS = sample_accounts(100)


def test_hundred_accounts_under_throttling_then_one_removed(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    everyone = synthesize_stack(
        tmp_path / "100", APP, imageId=image_id, accounts=",".join(ACCOUNTS)
    )
    removed, *kept = ACCOUNTS
    fewer = synthesize_stack(tmp_path / "99", APP, imageId=image_id, accounts=",".join(kept))
    assert len(everyone.shares) == 100 and len(fewer.shares) == 99
    assert cfn_lint_errors(*templates_in(tmp_path)) == ""
    # Every grant is throttled twice before it passes; CloudFormation starts whatever is ready.
    rehearsal.aws.faults.throttle_each(GRANT, times=2)
    stack = rehearsal.stack()
    stack.max_parallel = len(everyone.shares)
    assert stack.deploy(everyone), [s.describe() for s in stack.steps if s.response.reason]
    assert rehearsal.aws.faults.throttled[GRANT] == 2 * len(ACCOUNTS)
    assert stack.peak_concurrency == MAX_CONCURRENT_SHARES
    assert rehearsal.aws.shared_accounts(image_id) == set(ACCOUNTS)

    steps_before = len(stack.steps)
    assert stack.deploy(fewer)
    assert [s.request_type for s in stack.steps[steps_before:]] == ["Delete"]
    assert rehearsal.aws.shared_accounts(image_id) == set(kept)
    assert removed not in rehearsal.aws.shared_accounts(image_id)


def test_retain_leaves_the_shares_when_the_stack_is_deleted(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    kept = synthesize_stack(
        tmp_path / "retain", APP, imageId=image_id, accounts=",".join(ACCOUNTS[:2]), retain="true"
    )
    assert all(share.retain for share in kept.shares.values())
    stack = rehearsal.stack()
    assert stack.deploy(kept)
    assert stack.delete()
    assert [s.request_type for s in stack.steps] == ["Create", "Create"]
    assert rehearsal.aws.shared_accounts(image_id) == set(ACCOUNTS[:2])
