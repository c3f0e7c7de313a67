"""CloudFormation's lifecycle paths that a real deploy takes, against the strict stand-in: IAM
as the role's policy stands at each moment, both branches of a failed Update's rollback,
resources that hold one pair at once, Lambda's retries and duplicates, DEBUG logging.

Every operation ends with the invariant check (scenario.Rehearsal): what WorkSpaces lists
equals what the live resources declare, plus retained and hand-made shares.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cdk_workspaces_image_sharing import WorkspaceImagePermission, WorkspaceImageShare
from rehearsal.faults import Fault, grants_hang_while
from rehearsal.local_aws import create_image
from rehearsal.scenario import Rehearsal
from tests.support.apps import synth
from tests.support.values import GRANT

A, B, C = "111122223333", "444455556666", "777788889999"


def one_share(image: str, account: str, construct_id: str = "Share"):  # type: ignore[no-untyped-def]
    return lambda stack: WorkspaceImagePermission(
        stack, construct_id, image_id=image, shared_account_id=account
    )


def test_image_change_revokes_the_old_image_under_the_new_policy(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    other = create_image(rehearsal.aws, "other-image")
    rehearsal.images |= {image_id, other}
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    assert stack.deploy(synth(tmp_path / "2", one_share(other, A)))
    assert stack.failed_cleanup == []
    assert rehearsal.aws.shared_accounts(image_id) == set()
    assert rehearsal.aws.shared_accounts(other) == {A}


def test_image_change_rolled_back_revokes_the_new_image_under_the_old_policy(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    other = create_image(rehearsal.aws, "other-image")
    rehearsal.images |= {image_id, other}
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    assert not stack.deploy(synth(tmp_path / "2", one_share(other, A)), another_resource_fails=True)
    assert stack.status == "UPDATE_ROLLBACK_COMPLETE"
    assert rehearsal.aws.shared_accounts(image_id) == {A}
    assert rehearsal.aws.shared_accounts(other) == set()


def test_failed_update_that_kept_the_old_id_is_updated_back(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    rehearsal.images.add(image_id)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    rehearsal.aws.faults.inject(Fault(GRANT, "error", error_code="OperationNotSupportedException"))
    assert not stack.deploy(synth(tmp_path / "2", one_share(image_id, B)))
    assert [(s.request_type, s.response.status) for s in stack.steps[1:]] == [
        ("Update", "FAILED"),
        ("Update", "SUCCESS"),
    ]
    assert rehearsal.aws.shared_accounts(image_id) == {A}


def test_failed_update_that_answered_a_new_id_is_deleted_as_replaced(
    short_timeout_rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    """A timed-out Update answers FAILED with the new pair's ID: CloudFormation deletes it."""
    run = short_timeout_rehearsal
    run.images.add(image_id)
    stack = run.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    grant_b = f'"AllowCopyImage": true, "SharedAccountId": "{B}"'
    run.aws.faults.inject(Fault(GRANT, "hang", times=10, delay_seconds=8, body_contains=grant_b))
    assert not stack.deploy(synth(tmp_path / "2", one_share(image_id, B)))
    update, delete = stack.steps[1:]
    assert (update.response.status, update.response.physical_id) == ("FAILED", f"{image_id}/{B}")
    assert (delete.request_type, delete.physical_id_sent) == ("Delete", f"{image_id}/{B}")
    assert run.aws.shared_accounts(image_id) == {A}


def test_create_that_times_out_during_an_update_is_not_replayed_after_the_rollback(
    short_timeout_rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    """A new share's Create times out; UPDATE_ROLLBACK deletes it while the function lives on.
    Had Lambda retried the event (the EventInvokeConfig says no), the replay would grant again
    after the rollback, and the invariant check after the operation would fail."""

    def two_shares(stack: cdk.Stack) -> None:
        one_share(image_id, A)(stack)
        WorkspaceImagePermission(stack, "Second", image_id=image_id, shared_account_id=B)

    run = short_timeout_rehearsal
    run.images.add(image_id)
    stack = run.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    run.aws.faults.inject(
        grants_hang_while(lambda: stack.status == "UPDATE_IN_PROGRESS", 8, account_id=B)
    )
    assert not stack.deploy(synth(tmp_path / "2", two_shares))
    assert stack.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [d.kind for d in run.lambda_service.deliveries].count("retry") == 0
    assert run.aws.shared_accounts(image_id) == {A}


def test_delete_that_times_out_answers_with_its_physical_id(
    short_timeout_rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    run = short_timeout_rehearsal
    run.check_invariant = False  # the share stays: the Delete failed
    stack = run.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    revoke = '"AllowCopyImage": false'
    run.aws.faults.inject(Fault(GRANT, "hang", times=10, delay_seconds=8, body_contains=revoke))
    assert not stack.delete()
    delete = stack.steps[-1]
    assert (delete.response.status, delete.response.reason) == ("FAILED", "Execution timed out")
    assert delete.response.physical_id == f"{image_id}/{A}"
    assert stack.status == "DELETE_FAILED"


def test_renamed_share_keeps_its_pair(rehearsal: Rehearsal, image_id: str, tmp_path: Path) -> None:
    rehearsal.images.add(image_id)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A, "Old")))
    assert stack.deploy(synth(tmp_path / "2", one_share(image_id, A, "New")))
    assert [s.request_type for s in stack.steps] == ["Create", "Create", "Delete"]
    assert rehearsal.aws.shared_accounts(image_id) == {A}


def test_two_shares_swapping_accounts_keep_both(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    def pair(first: str, second: str):  # type: ignore[no-untyped-def]
        def declare(stack: cdk.Stack) -> None:
            WorkspaceImagePermission(stack, "One", image_id=image_id, shared_account_id=first)
            WorkspaceImagePermission(stack, "Two", image_id=image_id, shared_account_id=second)

        return declare

    rehearsal.images.add(image_id)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", pair(A, B)))
    assert stack.deploy(synth(tmp_path / "2", pair(B, A)))
    assert (
        sorted(s.request_type for s in stack.steps)
        == ["Create"] * 2 + ["Delete"] * 2 + ["Update"] * 2
    )
    assert rehearsal.aws.shared_accounts(image_id) == {A, B}


def test_accounts_moved_between_the_two_constructs_stay_shared(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    def singles(stack: cdk.Stack) -> None:
        WorkspaceImagePermission(stack, "ShareA", image_id=image_id, shared_account_id=A)
        WorkspaceImagePermission(stack, "ShareB", image_id=image_id, shared_account_id=B)

    def many(stack: cdk.Stack) -> None:
        WorkspaceImageShare(stack, "Golden", image_id=image_id, account_ids=[A, B, C])

    rehearsal.images.add(image_id)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", singles))
    assert stack.deploy(synth(tmp_path / "2", many))
    assert rehearsal.aws.shared_accounts(image_id) == {A, B, C}
    assert stack.deploy(synth(tmp_path / "3", singles))
    assert rehearsal.aws.shared_accounts(image_id) == {A, B}


def test_delete_of_a_share_revoked_by_hand_succeeds(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    rehearsal.images.add(image_id)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    rehearsal.aws.client("workspaces").update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=False, SharedAccountId=A
    )
    assert stack.delete()
    assert stack.status == "DELETE_COMPLETE"


def test_hand_made_shares_are_left_alone(
    rehearsal: Rehearsal, image_id: str, tmp_path: Path
) -> None:
    rehearsal.share_outside(image_id, C)
    stack = rehearsal.stack()
    assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
    assert stack.delete()
    assert rehearsal.aws.shared_accounts(image_id) == {C}


def test_every_event_delivered_twice_changes_nothing(
    aws: object, image_id: str, tmp_path: Path
) -> None:
    with_duplicates = Rehearsal(aws, print_line=lambda _: None, duplicate=lambda _: True)  # type: ignore[arg-type]
    try:
        with_duplicates.images.add(image_id)
        stack = with_duplicates.stack()
        assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
        assert stack.deploy(synth(tmp_path / "2", one_share(image_id, B)))
        assert stack.delete()
        kinds = [d.kind for d in with_duplicates.lambda_service.deliveries]
        assert kinds.count("duplicate") == kinds.count("first") == 4
    finally:
        with_duplicates.close()


def test_debug_logging_throughout_never_logs_the_response_url(
    aws: object, image_id: str, tmp_path: Path
) -> None:
    debug = Rehearsal(aws, print_line=lambda _: None, log_level="DEBUG")  # type: ignore[arg-type]
    try:
        debug.images.add(image_id)
        stack = debug.stack()
        assert stack.deploy(synth(tmp_path / "1", one_share(image_id, A)))
        assert stack.deploy(synth(tmp_path / "2", one_share(image_id, B)))
        assert stack.delete()
        logs = debug.lambda_service.logs()
        assert "[DEBUG]" in logs
        assert "X-Amz-Signature" not in logs and "cloudformation-responses/" not in logs
    finally:
        debug.close()
