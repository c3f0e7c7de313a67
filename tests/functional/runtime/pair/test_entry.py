"""Every request type against moto: the handler's answer and what WorkSpaces then lists."""

from __future__ import annotations

import os
import time
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_workspaces_image_sharing import WorkspaceImagePermission
from rehearsal.cloudformation import CloudFormation
from rehearsal.faults import RESPONSE_URL, Fault
from rehearsal.lambda_context import LambdaContext
from rehearsal.lambda_runtime import handler_in_process
from rehearsal.local_aws import ACCOUNT_ID, LocalAws
from tests.support.clients_made import record_clients
from tests.support.handler_runs import Invoke
from tests.support.stacks import HandSetStack
from tests.support.values import DESCRIBE, FUNCTION_TIMEOUT_SECONDS, GRANT

FIRST = "111122223333"
SECOND = "444455556666"


def props(image_id: str, account_id: str) -> dict[str, str]:
    return {"ImageId": image_id, "SharedAccountId": account_id}


def delete_event(
    cloudformation: CloudFormation, image_id: str, account_id: str, physical_id: str
) -> dict[str, Any]:
    return cloudformation.event(
        "Delete", "Share", props(image_id, account_id), physical_id=physical_id
    )


@pytest.fixture
def created(aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke) -> str:
    """The image shared with FIRST by a Create; returns the physical ID."""
    response = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert response.status == "SUCCESS", response.reason
    aws.faults.clear()
    return response.physical_id


def test_create_shares_with_exactly_one_call(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke
) -> None:
    """The grant's acceptance is the confirmation: no read of the (paged) permission list."""
    response = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == f"{image_id}/{FIRST}"
    assert response.data == {"ImageId": image_id, "SharedAccountId": FIRST}
    assert aws.faults.calls[GRANT] == 1 and aws.faults.calls[DESCRIBE] == 0
    assert aws.shared_accounts(image_id) == {FIRST}


def test_only_a_delete_makes_a_cloudformation_client(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cold start makes what every event needs (WorkSpaces); the stack is read only by a
    Delete, which makes its client then."""
    made = record_clients(monkeypatch)
    with handler_in_process(aws.environment) as modules:
        entry = modules["pair.entry"]
        assert made == ["workspaces"]
        context = LambdaContext(FUNCTION_TIMEOUT_SECONDS)
        create = cloudformation.event("Create", "Share", props(image_id, FIRST))
        entry.handler(create, context)
        physical_id = cloudformation.response(create).physical_id
        assert made == ["workspaces"] and aws.shared_accounts(image_id) == {FIRST}
        delete = delete_event(cloudformation, image_id, FIRST, physical_id)
        entry.handler(delete, context)
        entry.handler(delete_event(cloudformation, image_id, FIRST, physical_id), context)
    assert cloudformation.response(delete).status == "SUCCESS"
    assert made == ["workspaces", "cloudformation"]  # one client, for both Deletes
    assert aws.shared_accounts(image_id) == set()


def test_a_delete_whose_cloudformation_client_cannot_be_made_fails_and_revokes_nothing(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a client there is no answer about the stack (a renamed resource may still
    declare the pair): the Delete fails with the reason, as a failed start does."""
    record_clients(monkeypatch, cannot_make={"cloudformation"})
    with handler_in_process(aws.environment) as modules:
        entry, context = modules["pair.entry"], LambdaContext(FUNCTION_TIMEOUT_SECONDS)
        create = cloudformation.event("Create", "Share", props(image_id, FIRST))
        entry.handler(create, context)
        delete = delete_event(
            cloudformation, image_id, FIRST, cloudformation.response(create).physical_id
        )
        entry.handler(delete, context)
    response = cloudformation.response(delete)
    assert response.status == "FAILED" and "could not make a client" in response.reason
    assert aws.shared_accounts(image_id) == {FIRST}


def test_repeated_create_is_harmless(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    response = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert (response.status, response.physical_id) == ("SUCCESS", created)
    assert aws.shared_accounts(image_id) == {FIRST}


def test_update_with_same_pair_calls_nothing(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    event = cloudformation.event(
        "Update",
        "Share",
        props(image_id, FIRST),
        physical_id=created,
        old_properties=props(image_id, FIRST),
    )
    response = invoke(event)
    assert (response.status, response.physical_id) == ("SUCCESS", created)
    assert response.data == {"ImageId": image_id, "SharedAccountId": FIRST}
    assert aws.faults.calls[GRANT] == aws.faults.calls[DESCRIBE] == 0
    assert aws.shared_accounts(image_id) == {FIRST}


def test_update_to_new_account_then_cleanup_then_delete(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    update = cloudformation.event(
        "Update",
        "Share",
        props(image_id, SECOND),
        physical_id=created,
        old_properties=props(image_id, FIRST),
    )
    moved = invoke(update)
    assert (moved.status, moved.physical_id) == ("SUCCESS", f"{image_id}/{SECOND}")
    assert aws.faults.calls[GRANT] == 1 and aws.faults.calls[DESCRIBE] == 0
    # Update never revokes: until the cleanup phase both accounts are shared.
    assert aws.shared_accounts(image_id) == {FIRST, SECOND}

    cleanup = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert (cleanup.status, cleanup.physical_id) == ("SUCCESS", created)
    assert aws.shared_accounts(image_id) == {SECOND}

    deleted = invoke(delete_event(cloudformation, image_id, SECOND, moved.physical_id))
    assert deleted.status == "SUCCESS"
    assert aws.shared_accounts(image_id) == set()


def test_update_rollback_restores_the_old_share(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    """Another resource failed after this one moved: CloudFormation updates back, then
    deletes what the failed update made."""
    moved = invoke(
        cloudformation.event(
            "Update",
            "Share",
            props(image_id, SECOND),
            physical_id=created,
            old_properties=props(image_id, FIRST),
        )
    )
    back = invoke(
        cloudformation.event(
            "Update",
            "Share",
            props(image_id, FIRST),
            physical_id=moved.physical_id,
            old_properties=props(image_id, SECOND),
        )
    )
    assert (back.status, back.physical_id) == ("SUCCESS", created)
    invoke(delete_event(cloudformation, image_id, SECOND, moved.physical_id))
    assert aws.shared_accounts(image_id) == {FIRST}


def test_failed_update_keeps_the_old_physical_id_and_shares(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    response = invoke(
        cloudformation.event(
            "Update",
            "Share",
            props(image_id, "44445555666"),
            physical_id=created,
            old_properties=props(image_id, FIRST),
        )
    )
    assert (response.status, response.physical_id) == ("FAILED", created)
    assert "SharedAccountId '44445555666'" in response.reason
    assert aws.faults.calls[GRANT] == 0
    assert aws.shared_accounts(image_id) == {FIRST}


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"ImageId": "wsi-bad", "SharedAccountId": FIRST}, "ImageId 'wsi-bad'"),
        ({"ImageId": "IMAGE", "SharedAccountId": " 111122223333"}, "' 111122223333'"),
        ({"ImageId": "IMAGE", "SharedAccountId": "11112222333x"}, "exactly 12 digits"),
        ({"ImageId": "IMAGE", "SharedAccountId": "11112222333"}, "leading zero"),
        ({"ImageId": "IMAGE", "SharedAccountId": "1111222233334"}, "13 given"),
        ({"ImageId": "IMAGE"}, "SharedAccountId is missing"),
        ({"ImageId": "IMAGE", "SharedAccountId": ACCOUNT_ID}, "owns the image"),
    ],
)
def test_failed_create_and_its_rollback_delete_change_nothing(
    aws: LocalAws,
    image_id: str,
    cloudformation: CloudFormation,
    invoke: Invoke,
    properties: dict[str, str],
    reason: str,
) -> None:
    properties = {k: image_id if v == "IMAGE" else v for k, v in properties.items()}
    failed = invoke(cloudformation.event("Create", "Share", properties))
    assert failed.status == "FAILED"
    assert reason in failed.reason
    rollback = invoke(
        cloudformation.event("Delete", "Share", properties, physical_id=failed.physical_id)
    )
    assert rollback.status == "SUCCESS"
    assert aws.faults.calls[GRANT] == aws.faults.calls[DESCRIBE] == 0
    assert aws.shared_accounts(image_id) == set()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ResourceNotFoundException", "no such image"),  # an image that does not exist
        ("ResourceUnavailableException", "not AVAILABLE yet"),  # an image still being made
    ],
)
def test_refused_create_leaves_nothing_for_the_rollback_to_revoke(
    aws: LocalAws,
    image_id: str,
    cloudformation: CloudFormation,
    invoke: Invoke,
    code: str,
    reason: str,
) -> None:
    aws.faults.inject(Fault(GRANT, "error", error_code=code))
    failed = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert failed.status == "FAILED" and code in failed.reason and reason in failed.reason
    assert failed.physical_id != f"{image_id}/{FIRST}"
    rollback = invoke(delete_event(cloudformation, image_id, FIRST, failed.physical_id))
    assert rollback.status == "SUCCESS"
    assert aws.faults.calls[GRANT] == 1  # the refused grant; the rollback made no call
    assert aws.shared_accounts(image_id) == set()


def test_rollback_of_a_refused_create_keeps_a_share_made_by_hand(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke
) -> None:
    aws.client("workspaces").update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=True, SharedAccountId=FIRST
    )
    aws.faults.inject(Fault(GRANT, "error", error_code="OperationNotSupportedException"))
    failed = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    invoke(delete_event(cloudformation, image_id, FIRST, failed.physical_id))
    assert aws.shared_accounts(image_id) == {FIRST}


def test_throttling_is_retried_until_it_passes(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke
) -> None:
    aws.faults.inject(Fault(GRANT, "throttle", times=2), Fault(GRANT, "server_error"))
    response = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert response.status == "SUCCESS", response.reason
    assert aws.faults.calls[GRANT] == 4
    assert aws.shared_accounts(image_id) == {FIRST}


def test_delete_when_already_unshared_succeeds(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    """WorkSpaces refuses to revoke what is not shared (the stand-in does too): the handler
    reads the permissions and succeeds because the account is not listed."""
    aws.client("workspaces").update_workspace_image_permission(
        ImageId=image_id, AllowCopyImage=False, SharedAccountId=FIRST
    )
    aws.faults.clear()
    response = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert response.status == "SUCCESS", response.reason
    assert aws.faults.calls[GRANT] == 1 and aws.faults.calls[DESCRIBE] == 1
    assert aws.shared_accounts(image_id) == set()


def test_delete_received_twice_succeeds_both_times(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    """Lambda delivers an event at least once: the second Delete finds nothing to revoke."""
    event = delete_event(cloudformation, image_id, FIRST, created)
    first = invoke(event)
    again = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert (first.status, again.status) == ("SUCCESS", "SUCCESS"), again.reason
    assert aws.shared_accounts(image_id) == set()


def test_refused_revoke_of_a_listed_account_fails_with_the_code(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    aws.faults.inject(Fault(GRANT, "error", error_code="OperationNotSupportedException"))
    response = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert response.status == "FAILED" and "OperationNotSupportedException" in response.reason
    assert aws.shared_accounts(image_id) == {FIRST}


def test_delete_when_image_is_gone_succeeds(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    aws.faults.inject(Fault(GRANT, "error", error_code="ResourceNotFoundException"))
    response = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert response.status == "SUCCESS"
    assert aws.faults.calls[GRANT] == 1


def test_delete_that_cannot_revoke_fails_and_keeps_the_share(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    aws.faults.inject(Fault(GRANT, "error", error_code="AccessDeniedException"))
    response = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert (response.status, response.physical_id) == ("FAILED", created)
    assert "AccessDeniedException" in response.reason
    assert aws.shared_accounts(image_id) == {FIRST}


def test_delete_answers_without_crhelpers_two_minute_sleep(
    image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    started = time.monotonic()
    invoke(delete_event(cloudformation, image_id, FIRST, created))
    # Not a timing benchmark: crhelper's default would sleep 120 s here.
    assert time.monotonic() - started < 60


def test_response_url_refusing_first_attempt_is_retried(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke
) -> None:
    aws.faults.inject(Fault(RESPONSE_URL, "refuse"))
    response = invoke(cloudformation.event("Create", "Share", props(image_id, FIRST)))
    assert response.status == "SUCCESS"
    assert aws.faults.calls[RESPONSE_URL] == 2


def test_deploy_time_reason_matches_the_synth_time_message(
    image_id: str, cloudformation: CloudFormation, invoke: Invoke
) -> None:
    """A token resolved to a bad value at deploy time fails as a literal fails at synth: the
    Reason names the property, synth also names the keyword; from the value on they agree."""
    stack = cdk.Stack(cdk.App(), "Synth")
    with pytest.raises(ValueError) as synth_error:
        WorkspaceImagePermission(stack, "S", image_id=image_id, shared_account_id="11112222333")
    failed = invoke(cloudformation.event("Create", "Share", props(image_id, "11112222333")))
    assert failed.reason.startswith("SharedAccountId '11112222333' is not an AWS account ID")
    from_the_value_on = failed.reason.removeprefix("SharedAccountId ")
    assert str(synth_error.value) == (
        f"Synth/S: shared_account_id (SharedAccountId) {from_the_value_on}"
    )


def test_importing_the_handler_leaves_the_environment_as_it_was(
    handler_modules: dict[str, ModuleType],
) -> None:
    # AWS_SAM_LOCAL is set only while crhelper is constructed (to skip its polling clients).
    assert "AWS_SAM_LOCAL" not in os.environ
    assert handler_modules["pair.entry"].helper._sam_local == "true"


def test_delete_keeps_a_pair_another_live_resource_of_the_stack_holds(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation, invoke: Invoke, created: str
) -> None:
    """A rename: the new resource holds the same pair; the old one's Delete must not revoke."""
    stack = HandSetStack()
    stack.hold("Share", created, "DELETE_IN_PROGRESS")
    stack.hold("Renamed", created)
    aws.faults.stacks.register(stack)
    response = invoke(delete_event(cloudformation, image_id, FIRST, created))
    assert response.status == "SUCCESS", response.reason
    assert aws.faults.calls[GRANT] == 0
    assert aws.shared_accounts(image_id) == {FIRST}


def test_a_failure_to_make_the_client_is_answered_at_once(
    aws: LocalAws, image_id: str, cloudformation: CloudFormation
) -> None:
    """crhelper's init_failure: FAILED now, not silence until ServiceTimeout."""
    environment = {k: v for k, v in aws.environment.items() if "REGION" not in k}
    saved = {k: os.environ.pop(k) for k in ("AWS_REGION", "AWS_DEFAULT_REGION") if k in os.environ}
    try:
        with handler_in_process(environment) as modules:
            event = cloudformation.event("Create", "Share", props(image_id, FIRST))
            modules["pair.entry"].handler(event, LambdaContext(FUNCTION_TIMEOUT_SECONDS))
    finally:
        os.environ.update(saved)
    response = cloudformation.response(event)
    assert response.status == "FAILED" and "region" in response.reason.lower()
    assert aws.shared_accounts(image_id) == set()
