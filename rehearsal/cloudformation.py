"""CloudFormation's side of a custom resource: request events, presigned response URLs, and
the checks CloudFormation applies to what the handler answers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from rehearsal.local_aws import ACCOUNT_ID, REGION, RESPONSE_BUCKET, LocalAws

STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/Rehearsal/{uuid.UUID(int=1)}"
MAX_RESPONSE_BYTES = 4096
MAX_REASON_CHARS = 256


@dataclass(frozen=True)
class Response:
    """What the handler PUT to the response URL."""

    status: str
    physical_id: str
    reason: str
    data: dict[str, Any]
    size: int


class ResponseError(AssertionError):
    """The handler's answer breaks one of CloudFormation's rules."""


class CloudFormation:
    """Builds events the way CloudFormation sends them and reads back the answers."""

    def __init__(self, aws: LocalAws, service_token: str = "arn:aws:lambda:::function:x") -> None:
        self._s3 = aws.client("s3")
        self._faults = aws.faults
        self._service_token = service_token
        self._bucket_ready = False

    def event(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any],
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
        stack_id: str = STACK_ID,
        service_token: str | None = None,
        resource_type: str = PAIR_RESOURCE_TYPE,
    ) -> dict[str, Any]:
        """An event as CloudFormation sends it: every property a string, a fresh RequestId and
        a presigned S3 PUT URL to answer on."""
        token = service_token or self._service_token
        if not self._bucket_ready:
            # The fault layer keeps every accepted answer (a second one too) as it passes.
            self._s3.create_bucket(Bucket=RESPONSE_BUCKET)
            self._bucket_ready = True
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": self._s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": RESPONSE_BUCKET, "Key": request_id},
                ExpiresIn=7200,
            ),
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": _as_strings({"ServiceToken": token, **properties}),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = _as_strings({"ServiceToken": token, **old_properties})
        return event

    def responses(self, event: dict[str, Any]) -> list[bytes]:
        """Every answer PUT for ``event`` and accepted, oldest first."""
        return list(self._faults.answers.get(event["RequestId"], []))

    def response(self, event: dict[str, Any], log: str = "") -> Response:
        """The handler's answer to ``event``, checked against CloudFormation's rules; ``log``
        (the function's) is added to the error."""
        answers = self.responses(event)
        if len(answers) != 1:
            raise ResponseError(
                f"{len(answers)} responses to {event['RequestType']} {event['RequestId']}; "
                f"CloudFormation takes exactly one\n--- function log ---\n{log}"
            )
        raw = answers[0]
        body = json.loads(raw)
        problems = []
        if len(raw) > MAX_RESPONSE_BYTES:
            problems.append(f"response is {len(raw)} bytes, over {MAX_RESPONSE_BYTES}")
        if body.get("Status") not in ("SUCCESS", "FAILED"):
            problems.append(f"Status {body.get('Status')!r} is not SUCCESS or FAILED")
        if not body.get("PhysicalResourceId"):
            problems.append("PhysicalResourceId is empty")
        for key in ("StackId", "RequestId", "LogicalResourceId"):
            if body.get(key) != event[key]:
                problems.append(f"{key} {body.get(key)!r} does not echo {event[key]!r}")
        if body.get("Status") == "FAILED" and not body.get("Reason"):
            problems.append("FAILED without a Reason")
        if len(str(body.get("Reason", ""))) > MAX_REASON_CHARS:
            problems.append("Reason is longer than 256 characters")
        if problems:
            raise ResponseError("; ".join(problems) + f"\n--- function log ---\n{log}")
        return Response(
            status=body["Status"],
            physical_id=body["PhysicalResourceId"],
            reason=str(body.get("Reason", "")),
            data=dict(body.get("Data") or {}),
            size=len(raw),
        )


def _as_strings(properties: dict[str, Any]) -> dict[str, Any]:
    # CloudFormation passes every scalar property to a custom resource as a string, and a list
    # as a list of strings.
    return {key: _as_string(value) for key, value in properties.items()}


def _as_string(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_string(item) for item in value]
    return value if isinstance(value, str) else str(value)
