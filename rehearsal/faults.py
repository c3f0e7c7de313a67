"""A WSGI layer in front of moto that counts requests and injects the faults AWS can produce.

moto keeps the state; this layer makes the errors moto does not (throttling, 5xx, error codes,
slowness, a refused connection), so the handler meets them exactly as botocore reports them.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import (
    DESCRIBE_PERMISSIONS,
    GRANT_OR_REVOKE,
)
from rehearsal import iam_check, organizations_strict, sts_strict, workspaces_strict
from rehearsal.cloudformation_reads import (
    READ_ACTIONS,
    CloudFormationError,
    CloudFormationReads,
    error_xml,
)

RESPONSE_URL = "ResponseUrl"  # the target name of S3 PUTs to the response bucket
FaultKind = Literal["error", "throttle", "server_error", "slow", "hang", "refuse"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class Fault:
    """Inject ``kind`` on the next ``times`` requests to ``target``.

    ``target`` is an operation name (``UpdateWorkspaceImagePermission``,
    ``TransactWriteItems``) or ``RESPONSE_URL``; with ``body_contains``, only requests whose
    body holds that text match. ``error`` answers with ``error_code`` (and
    ``cancellation_reasons``, the per-item codes of a DynamoDB TransactionCanceledException,
    e.g. ``("TransactionConflict", "None")``); ``throttle`` with ``ThrottlingException``;
    ``server_error`` with HTTP 500; ``slow`` waits ``delay_seconds`` and then serves the
    request; ``hang`` waits ``delay_seconds`` and drops the connection without passing the
    request on; ``refuse`` drops the connection at once. With ``applies_while``, the fault
    matches only while that returns True (e.g. while a stack is still being created).
    """

    target: str
    kind: FaultKind
    times: int = 1
    error_code: str = "ValidationException"
    delay_seconds: float = 0.0
    body_contains: str = ""
    applies_while: Callable[[], bool] | None = None
    cancellation_reasons: tuple[str, ...] = ()


@dataclass
class Overlap:
    """Run ``meanwhile`` (e.g. another function run, to its end) while the next request to
    ``target`` whose body holds ``body_contains`` is in flight: before it reaches moto
    (``before``) or after moto answered and before the answer goes back. That is how two runs
    of the function overlap: the request's caller acts on a state that has changed since."""

    target: str
    meanwhile: Callable[[], object]
    body_contains: str = ""
    before: bool = False


def grants_hang_while(
    condition: Callable[[], bool], delay_seconds: float, account_id: str = ""
) -> Fault:
    """Every grant (to ``account_id``, or to any account) hangs for ``delay_seconds`` and drops
    while ``condition()`` holds; revokes are served. Hangs longer than the function's Timeout
    make the invocation time out; once the condition ends, a replayed grant would be served."""
    grant = '"AllowCopyImage": true'
    return Fault(
        GRANT_OR_REVOKE,
        "hang",
        times=1_000,
        delay_seconds=delay_seconds,
        body_contains=f'{grant}, "SharedAccountId": "{account_id}"' if account_id else grant,
        applies_while=condition,
    )


def _target(environ: dict[str, Any], response_bucket: str, body: bytes) -> str:
    amz_target = environ.get("HTTP_X_AMZ_TARGET", "")
    if amz_target:
        return str(amz_target).rsplit(".", 1)[-1]
    if body.startswith(b"Action="):  # the query protocol (CloudFormation)
        return dict(parse_qsl(body.decode()))["Action"]
    path = str(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD") == "PUT" and path.startswith(f"/{response_bucket}/"):
        return RESPONSE_URL
    return f"{environ.get('REQUEST_METHOD')} {path.split('/')[1] if '/' in path else path}"


class FaultLayer:
    """WSGI middleware: counts requests per target in ``calls``, throttled ones in
    ``throttled``, and applies queued faults and per-request throttling. Behind the faults it
    enforces IAM on the roles in ``roles``, answers CloudFormation's reads from ``stacks``, and
    makes WorkSpaces as strict as the documented service (``workspaces_strict``) and
    Organizations answer as it does today (``organizations_strict``), and STS refuse a role
    that does not exist or does not trust a function's role (``sts_strict``)."""

    def __init__(self, app: WsgiApp, response_bucket: str, account_id: str) -> None:
        self._app = app
        self._response_bucket = response_bucket
        self._account_id = account_id
        self.roles = iam_check.RoleDirectory()
        self.stacks = CloudFormationReads()
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._overlaps: list[Overlap] = []
        self._empty_pages = 0
        self._throttle_each: dict[str, int] = {}
        self._seen_bodies: Counter[tuple[str, bytes]] = Counter()
        self.calls: Counter[str] = Counter()
        self.function_calls: Counter[str] = Counter()
        """The calls of the stand-in's functions (the roles it knows), apart from the harness's."""
        self.throttled: Counter[str] = Counter()
        # Every answer PUT to the response bucket and accepted, by object key, oldest first.
        self.answers: dict[str, list[bytes]] = {}

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each applies to the next ``times`` matching requests."""
        with self._lock:
            self._faults.extend(faults)

    def throttle_each(self, target: str, times: int) -> None:
        """Throttle the first ``times`` attempts of every distinct request to ``target`` (the
        same body is the same request retried), until ``clear()``."""
        with self._lock:
            self._throttle_each[target] = times

    def overlap(self, overlap: Overlap) -> None:
        """Queue ``overlap`` for the next matching request."""
        with self._lock:
            self._overlaps.append(overlap)

    def _take_overlap(self, target: str, body: bytes) -> Overlap | None:
        with self._lock:
            for overlap in self._overlaps:
                if overlap.target == target and overlap.body_contains.encode() in body:
                    self._overlaps.remove(overlap)
                    return overlap
        return None

    def empty_pages(self, times: int) -> None:
        """Answer the next ``times`` Organizations list calls of a function (a role the stand-in
        knows) with an empty page that carries a NextToken, as the service may."""
        with self._lock:
            self._empty_pages = times

    def _take_empty_page(self, caller: iam_check.Caller) -> bool:
        with self._lock:
            if self._empty_pages <= 0 or self.roles.principal(caller.access_key) is None:
                return False
            self._empty_pages -= 1
            return True

    def clear(self) -> None:
        """Drop queued faults and reset the counts."""
        with self._lock:
            self._faults.clear()
            self._overlaps.clear()
            self._empty_pages = 0
            self._throttle_each.clear()
            self._seen_bodies.clear()
            self.calls.clear()
            self.function_calls.clear()
            self.throttled.clear()

    def _take(self, target: str, body: bytes) -> Fault | None:
        with self._lock:
            self.calls[target] += 1
            if target in self._throttle_each:
                self._seen_bodies[(target, body)] += 1
                if self._seen_bodies[(target, body)] <= self._throttle_each[target]:
                    self.throttled[target] += 1
                    return Fault(target, "throttle")
            for fault in self._faults:
                if (
                    fault.target == target
                    and fault.times > 0
                    and fault.body_contains.encode() in body
                    and (fault.applies_while is None or fault.applies_while())
                ):
                    fault.times -= 1
                    if fault.kind == "throttle":
                        self.throttled[target] += 1
                    return fault
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        target = _target(environ, self._response_bucket, body)
        caller = iam_check.caller(str(environ.get("HTTP_AUTHORIZATION", "")))
        if caller is not None and self.roles.principal(caller.access_key) is not None:
            with self._lock:
                self.function_calls[target] += 1
        overlap = self._take_overlap(target, body)
        if overlap is not None:
            if overlap.before:
                overlap.meanwhile()
                return self._serve(environ, start_response, caller, target, body)
            status, headers, answer = _collect(
                lambda env, start: self._serve(env, start, caller, target, body), environ
            )
            overlap.meanwhile()
            start_response(status, headers)
            return [answer]
        fault = self._take(target, body)
        if fault is None:
            return self._serve(environ, start_response, caller, target, body)
        if fault.kind == "slow":
            time.sleep(fault.delay_seconds)
            return self._serve(environ, start_response, caller, target, body)
        if fault.kind in ("hang", "refuse"):
            time.sleep(fault.delay_seconds)
            connection: socket.socket = environ["werkzeug.socket"]
            connection.shutdown(socket.SHUT_RDWR)
            # werkzeug writes the headers to the closed connection and drops it quietly (a
            # response never started is an AssertionError it prints).
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return []
        query = body.startswith(b"Action=")  # CloudFormation answers errors in XML
        if fault.kind == "server_error":
            if query:
                return _xml(
                    start_response,
                    "500 Internal Server Error",
                    error_xml("InternalFailure", "injected"),
                )
            return _json_error(start_response, "500 Internal Server Error", "InternalFailure")
        if query:
            code = "Throttling" if fault.kind == "throttle" else fault.error_code
            return _xml(start_response, "400 Bad Request", error_xml(code, f"injected {code}"))
        code = "ThrottlingException" if fault.kind == "throttle" else fault.error_code
        if fault.cancellation_reasons:
            reasons = [{"Code": reason} for reason in fault.cancellation_reasons]
            return _json(
                start_response,
                "400 Bad Request",
                {"__type": code, "message": f"injected {code}", "CancellationReasons": reasons},
            )
        return _json_error(start_response, "400 Bad Request", code)

    def _serve(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        caller: iam_check.Caller | None,
        target: str,
        body: bytes,
    ) -> Iterable[bytes]:
        if target == RESPONSE_URL:
            return self._app(environ, self._recording(environ, start_response, body))
        if caller is not None and caller.service == "workspaces":
            return self._workspaces(environ, start_response, caller, target, body)
        if caller is not None and caller.service == "cloudformation":
            return self._cloudformation(start_response, caller, target, body)
        if caller is not None and caller.service == "organizations":
            return self._organizations(environ, start_response, caller, target, body)
        if caller is not None and caller.service == "sts" and target == "AssumeRole":
            return self._assume_role(environ, start_response, caller, body)
        if caller is not None and caller.service == "dynamodb":
            denied = self._dynamodb_denial(caller, target, body)
            if denied:
                return _json_error(
                    start_response, "400 Bad Request", "AccessDeniedException", denied
                )
        return self._app(environ, start_response)

    def _account_of(self, caller: iam_check.Caller) -> str:
        """The account of the caller's role; the harness's keys act in moto's default one."""
        principal = self.roles.principal(caller.access_key)
        return principal.split(":")[4] if principal else self._account_id

    def _dynamodb_denial(self, caller: iam_check.Caller, target: str, body: bytes) -> str:
        """Why the caller's role may not make this DynamoDB call ("" when it may)."""
        account = self._account_of(caller)
        for action, table in iam_check.dynamodb_actions(target, json.loads(body or b"{}")):
            arn = f"arn:aws:dynamodb:{caller.region}:{account}:table/{table}"
            if self.roles.denies(caller.access_key, action, arn):
                return f"not authorized to perform {action} on {arn}"
        return ""

    def _assume_role(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        caller: iam_check.Caller,
        body: bytes,
    ) -> Iterable[bytes]:
        """The caller's policy must allow sts:AssumeRole on the role, and the role's trust
        policy the caller (``sts_strict``). The credentials it hands out then act under the
        assumed role's own policies, as moto's IAM holds them."""
        principal = self.roles.principal(caller.access_key)
        role_arn = dict(parse_qsl(body.decode())).get("RoleArn", "")
        refused = ""
        if self.roles.denies(caller.access_key, "sts:AssumeRole", role_arn):
            refused = f"User: {principal} is not authorized to perform sts:AssumeRole on {role_arn}"
        refused = refused or (principal and sts_strict.refusal(role_arn, principal)) or ""
        if refused:
            return _xml(start_response, "403 Forbidden", error_xml("AccessDenied", refused))
        if principal is None:
            return self._app(environ, start_response)
        status, headers, answer = _collect(self._app, environ)
        key = sts_strict.issued_access_key(answer)
        if status.startswith("2") and key:
            self.roles.register(key, lambda: sts_strict.role_policies(role_arn), role_arn)
        start_response(status, headers)
        return [answer]

    def _organizations(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        caller: iam_check.Caller,
        target: str,
        body: bytes,
    ) -> Iterable[bytes]:
        """moto's answer, less what Organizations no longer sends (``organizations_strict``),
        to a caller whose role allows the call on the parent it names."""
        request = json.loads(body or b"{}")
        resource = organizations_strict.resource_arn(self._account_of(caller), request)
        if self.roles.denies(caller.access_key, f"organizations:{target}", resource):
            message = f"not authorized to perform organizations:{target} on {resource}"
            return _json_error(start_response, "400 Bad Request", "AccessDeniedException", message)
        if target in organizations_strict.LIST_ITEMS and self._take_empty_page(caller):
            return _json(start_response, "200 OK", organizations_strict.empty_page(target, request))
        restored = organizations_strict.moto_token(request)
        if restored is not None:
            body = json.dumps(restored).encode()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        status, headers, answer = _collect(self._app, environ)
        if status.startswith("2"):
            answer = organizations_strict.answer_as_today(target, answer)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(answer)))])
        return [answer]

    def _recording(
        self, environ: dict[str, Any], start_response: StartResponse, body: bytes
    ) -> StartResponse:
        """Keep an answer the bucket accepts, so reading it back needs no S3 listing (moto
        copies every stored version to list one key's)."""
        key = str(environ.get("PATH_INFO", "")).removeprefix(f"/{self._response_bucket}/")

        def start(status: str, headers: Any, *rest: Any) -> Any:
            if status.startswith("2"):
                with self._lock:
                    self.answers.setdefault(key, []).append(body)
            return start_response(status, headers, *rest)

        return start

    def _workspaces(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        caller: iam_check.Caller,
        target: str,
        body: bytes,
    ) -> Iterable[bytes]:
        if target not in (
            GRANT_OR_REVOKE,
            DESCRIBE_PERMISSIONS,
        ):
            return self._app(environ, start_response)
        request = json.loads(body or b"{}")
        image_arn = (
            f"arn:aws:workspaces:{caller.region}:{self._account_id}:"
            f"workspaceimage/{request.get('ImageId')}"
        )
        if self.roles.denies(caller.access_key, f"workspaces:{target}", image_arn):
            return _json_error(
                start_response,
                "400 Bad Request",
                "AccessDeniedException",
                f"not authorized to perform workspaces:{target} on {image_arn}",
            )
        try:
            answer = workspaces_strict.answer(target, request, self._account_id, caller.region)
        except workspaces_strict.WorkSpacesRefusal as refusal:
            return _json_error(start_response, "400 Bad Request", refusal.code, str(refusal))
        if answer is None:
            return self._app(environ, start_response)
        return _json(start_response, "200 OK", answer)

    def _cloudformation(
        self,
        start_response: StartResponse,
        caller: iam_check.Caller,
        action: str,
        body: bytes,
    ) -> Iterable[bytes]:
        params = dict(parse_qsl(body.decode()))
        if action not in READ_ACTIONS:
            return _xml(start_response, "400 Bad Request", error_xml("InvalidAction", action))
        account = self._account_of(caller)
        try:
            resource = "*"
            if params.get("StackName"):
                resource = self.stacks.find(params["StackName"], account).stack_id
            if self.roles.denies(caller.access_key, f"cloudformation:{action}", resource):
                message = f"not authorized to perform cloudformation:{action} on {resource}"
                return _xml(start_response, "403 Forbidden", error_xml("AccessDenied", message))
            return _xml(start_response, "200 OK", self.stacks.answer(action, params, account))
        except CloudFormationError as error:
            return _xml(start_response, "400 Bad Request", error_xml(error.code, str(error)))


def _collect(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """``app``'s whole answer: status, headers and body."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def keep(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
        started.append((status, headers))
        return lambda _data: None

    body = b"".join(app(environ, keep))
    status, headers = started[0]
    return status, headers, body


def _json(start_response: StartResponse, status: str, answer: dict[str, Any]) -> list[bytes]:
    body = json.dumps(answer).encode()
    start_response(
        status,
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _xml(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _json_error(
    start_response: StartResponse, status: str, code: str, message: str = ""
) -> list[bytes]:
    body = json.dumps({"__type": code, "message": message or f"injected {code}"}).encode()
    start_response(
        status,
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]
