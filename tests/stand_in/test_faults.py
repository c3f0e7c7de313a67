"""The synthesized asset, run as Lambda runs it, survives the faults AWS produces."""

from __future__ import annotations

from rehearsal.assembly import StackTemplate
from rehearsal.faults import RESPONSE_URL, Fault, grants_hang_while
from rehearsal.scenario import Rehearsal
from tests.support.values import EXAMPLE_ACCOUNT_ID, GRANT


def test_throttling_then_success(
    rehearsal: Rehearsal, example_template: StackTemplate, image_id: str
) -> None:
    rehearsal.aws.faults.inject(Fault(GRANT, "throttle", times=3))
    stack = rehearsal.stack()
    assert stack.deploy(example_template)
    assert [s.response.status for s in stack.steps] == ["SUCCESS"]
    assert rehearsal.aws.faults.calls[GRANT] == 4
    assert rehearsal.aws.shared_accounts(image_id) == {EXAMPLE_ACCOUNT_ID}


def test_server_errors_are_retried(
    rehearsal: Rehearsal, example_template: StackTemplate, image_id: str
) -> None:
    rehearsal.aws.faults.inject(Fault(GRANT, "server_error"))
    stack = rehearsal.stack()
    assert stack.deploy(example_template)
    assert rehearsal.aws.shared_accounts(image_id) == {EXAMPLE_ACCOUNT_ID}
    rehearsal.aws.faults.inject(Fault(GRANT, "server_error"), Fault("DescribeStacks", "throttle"))
    assert stack.delete()
    assert rehearsal.aws.shared_accounts(image_id) == set()


def test_endpoint_slower_than_the_timeout_gets_one_failed_answer_and_a_clean_rollback(
    short_timeout_rehearsal: Rehearsal, example_template: StackTemplate, image_id: str
) -> None:
    """The Create times out; crhelper answers FAILED, the rollback revokes, and Lambda's
    asynchronous retries (which the function's EventInvokeConfig turns off) must not grant
    again afterwards: the invariant check after the operation would see the share."""
    run = short_timeout_rehearsal
    stack = run.stack()
    # Every grant hangs past the Timeout while the stack is being created; once CloudFormation
    # rolls back, a grant (a replay of the event, if Lambda made one) is served. The revoke of
    # the rollback Delete (AllowCopyImage false) is served normally.
    run.aws.faults.inject(
        grants_hang_while(lambda: stack.status == "CREATE_IN_PROGRESS", delay_seconds=8)
    )
    assert not stack.deploy(example_template)
    create, rollback = stack.steps  # CloudFormation.response() checked: exactly one answer each
    assert create.request_type == "Create" and create.response.status == "FAILED"
    assert create.response.reason == "Execution timed out"
    assert create.response.physical_id == f"{image_id}/{EXAMPLE_ACCOUNT_ID}"
    assert rollback.request_type == "Delete" and rollback.response.status == "SUCCESS"
    assert rollback.physical_id_sent == create.response.physical_id
    kinds = [d.kind for d in run.lambda_service.deliveries]
    assert kinds == ["first", "first"], "no retry of the timed-out Create"
    assert run.aws.shared_accounts(image_id) == set()


def test_response_url_refusing_the_first_attempt(
    rehearsal: Rehearsal, example_template: StackTemplate, image_id: str
) -> None:
    rehearsal.aws.faults.inject(Fault(RESPONSE_URL, "refuse"))
    stack = rehearsal.stack()
    assert stack.deploy(example_template)
    assert rehearsal.aws.faults.calls[RESPONSE_URL] == 2
    assert rehearsal.aws.shared_accounts(image_id) == {EXAMPLE_ACCOUNT_ID}
