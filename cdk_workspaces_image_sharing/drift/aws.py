"""The AWS clients the drift command uses, and the one-line messages for the usual errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdk_workspaces_image_sharing.runtime.sharing_functions.aws_plumbing import (
    THROTTLING_CODES,
    ClientSettings,
    CloudFormationClient,
    DynamoDBClient,
    WorkSpacesClient,
    error_code,
)

# Nobody waits on a deadline here: more attempts and longer timeouts than the functions'.
CLIENT_SETTINGS = ClientSettings(
    max_attempts=10, connect_timeout_seconds=5, read_timeout_seconds=30
)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
)
REFUSED_CREDENTIALS_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)


class DriftError(Exception):
    """An error the command reports in one line, without a traceback, and exits 2."""


@dataclass(frozen=True)
class Clients:
    """The CloudFormation, WorkSpaces and DynamoDB (organization shares' ledgers) clients of one
    account and Region."""

    cloudformation: CloudFormationClient
    workspaces: WorkSpacesClient
    dynamodb: DynamoDBClient

    @property
    def region(self) -> str:
        return str(self.workspaces.meta.region_name)


def connect(
    profile: str | None = None,
    region: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> Clients:
    """Clients for ``profile`` and ``region`` (each None: the standard AWS ways).

    ``environment`` overrides what the process environment says, for callers that must not
    change ``os.environ``: ``AWS_ENDPOINT_URL``, ``AWS_CA_BUNDLE``, ``AWS_REGION`` (or
    ``AWS_DEFAULT_REGION``), ``AWS_PROFILE`` and the ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` credentials.
    Raises DriftError for a missing profile or Region.
    """
    import os

    import boto3

    env = environment or {}
    # The AWS CLI v2 reads AWS_REGION before AWS_DEFAULT_REGION; boto3 reads only the latter.
    region = (
        region
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or os.environ.get("AWS_REGION")
    )
    options: dict[str, Any] = {"config": CLIENT_SETTINGS.config()}
    if env.get("AWS_ENDPOINT_URL"):
        options["endpoint_url"] = env["AWS_ENDPOINT_URL"]
    if env.get("AWS_CA_BUNDLE"):
        options["verify"] = env["AWS_CA_BUNDLE"]
    try:
        session = boto3.Session(
            profile_name=profile or env.get("AWS_PROFILE"),
            region_name=region,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
        )
        return Clients(
            cloudformation=session.client("cloudformation", **options),
            workspaces=session.client("workspaces", **options),
            dynamodb=session.client("dynamodb", **options),
        )
    except Exception as error:
        explained = explain(error)
        if explained is error:
            raise
        raise explained from error


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def explain(error: BaseException) -> BaseException:
    """A DriftError with a one-line message for the errors a user meets (no credentials, no
    Region, access denied, throttled past retries, an endpoint out of reach...), or ``error``
    itself when it is none of them (a bug, which deserves its traceback). An error raised
    from an AWS error (the ledger's LedgerError) is explained by that AWS error."""
    from botocore import exceptions

    if isinstance(error, DriftError):
        return error
    cause = error.__cause__
    if not isinstance(error, exceptions.ClientError | exceptions.BotoCoreError) and isinstance(
        cause, exceptions.ClientError | exceptions.BotoCoreError
    ):
        return explain(cause)
    if isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return DriftError(
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, exceptions.NoRegionError):
        return DriftError("no AWS Region: pass --region or set AWS_REGION")
    if isinstance(error, exceptions.ProfileNotFound):
        return DriftError(f"{_one_line(error)}: check --profile or AWS_PROFILE")
    if isinstance(error, exceptions.ClientError):
        code = error_code(error)
        operation = getattr(error, "operation_name", "the call")
        message = _one_line(error.response.get("Error", {}).get("Message", ""))
        if code in THROTTLING_CODES:
            return DriftError(
                f"throttled: {operation} was still throttled after "
                f"{CLIENT_SETTINGS.max_attempts} attempts; try again later"
            )
        if code in ACCESS_DENIED_CODES:
            return DriftError(f"access denied: {operation}: {message or code}")
        if code in REFUSED_CREDENTIALS_CODES:
            return DriftError(f"the credentials were refused ({code}): {message}")
        return DriftError(f"{operation} failed: {code}: {message}")
    if isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectionError):
        return DriftError(f"could not reach AWS: {_one_line(error)}")
    if isinstance(error, exceptions.BotoCoreError):
        return DriftError(_one_line(error))
    return error
