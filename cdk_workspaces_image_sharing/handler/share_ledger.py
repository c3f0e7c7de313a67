"""What an organization share granted, kept in DynamoDB with conditional writes.

Scheduled runs and CloudFormation events of the organization share can overlap, so every
change to the ledger is a conditional write that fails rather than overwrite an update it did
not read; a refused write is read again and retried (``MAX_ATTEMPTS`` times at most).

Items (partition key ``pk``, sort key ``sk``, both strings):

- Pair: ``pk = PAIR#<image_id>``, ``sk = <account_id>``. ``holders`` (a String Set): the IDs of
  the configurations that want the pair (a configuration ID is the organization share's
  physical ID, an opaque string). ``origin``: ``granted`` when this tool shares it, or
  ``pre-existing`` when WorkSpaces already listed it when it was first wanted (never revoked by
  this tool). ``version``: 1 when created, one more on every write; each write is conditional
  on the version it read (an optimistic lock).
- Configuration: ``pk = CONFIG#<configuration_id>``, ``sk = CONFIG``. ``state``: ``live`` or
  ``deleted``; ``version``.
- Properties: ``pk = PROPS#<configuration_id>``, ``sk = <digest>``. ``properties``: a
  resource's properties as a Create or Update received them (a JSON object), stored under
  their SHA-256 digest, which the resource answers as an attribute and its schedule sends back.
  Writing the same properties again (a redelivered event) writes the same item, so a scheduled
  run reads exactly what the stack now declares, after an UPDATE_ROLLBACK too. Stacks deployed
  before the configuration format 2 have none.

How a caller uses it:

- Grant: read WorkSpaces' permissions, then ``want()``; if ``must_grant``, grant, then check
  ``is_held()``: False means the last holder released the pair (this configuration's Delete,
  or a later run that saw the account leave) while this grant was in flight, after its revoke,
  so the caller revokes what it just granted. While another configuration still holds the
  pair, the share stays: that one wants it. Intent is written before the grant: a run
  that stops between the two leaves a ``granted`` pair that WorkSpaces does not list, and the
  next ``want()`` of it says ``must_grant`` again.
- Revoke: ``release()``; if ``must_revoke``, revoke (after the item is gone, so that a
  ``want()`` that creates it again reads WorkSpaces as the revoke leaves it).
- CloudFormation events call ``mark_live()`` before their first ``want(scheduled=False)``; a
  Delete calls ``mark_deleted()`` before it releases ``holdings()``. A scheduled ``want()``
  checks in the same transaction that the configuration is live, so a run that overlaps the
  Delete cannot add a holder after the Delete released the pair.

A ``pre-existing`` pair that WorkSpaces no longer lists while a configuration wants it becomes
``granted`` (the share that existed before is gone; the one the caller makes is this tool's).

All reads are strongly consistent. The client is a low-level boto3 DynamoDB client.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

GRANTED = "granted"
PRE_EXISTING = "pre-existing"
LIVE = "live"
DELETED = "deleted"
CONFIG_SORT_KEY = "CONFIG"
SKIPPED_REASON = "configuration not live: skipped"

# Attempts of one change while others keep changing the same item.
MAX_ATTEMPTS = 10
_BACKOFF_BASE_SECONDS = 0.02
_BACKOFF_MAX_SECONDS = 0.5
# botocore settings (see client_config()).
CLIENT_MAX_ATTEMPTS = 4
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
_MESSAGE_LENGTH = 120

# The IAM actions the ledger calls, all on the table only. A transaction needs no action of its
# own: its Put and Update are authorized as PutItem and UpdateItem, its ConditionCheck as
# ConditionCheckItem.

# Refusals that mean "someone else changed it first": read again and retry.
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_CANCELED = "TransactionCanceledException"
_TRANSACTION_CONFLICT = "TransactionConflictException"
_REFUSALS = frozenset({_CONDITION_FAILED, _TRANSACTION_CANCELED, _TRANSACTION_CONFLICT})
# CancellationReasons codes, one per action of a transaction.
_REASON_CONDITION = "ConditionalCheckFailed"
_REASON_CONFLICT = "TransactionConflict"
_REASON_NONE = "None"
_REASON_THROTTLED = "ThrottlingError"
_RETRYABLE_REASONS = frozenset(
    {_REASON_CONDITION, _REASON_CONFLICT, _REASON_NONE, _REASON_THROTTLED}
)


# DynamoDB's item limit is 400 KB; what a configuration item holds besides its properties is
# far smaller than what this leaves.
MAX_PROPERTIES_BYTES = 380_000


class LedgerError(RuntimeError):
    """DynamoDB failed (after botocore's retries). ``str()`` is a short reason."""


class LedgerConflict(LedgerError):
    """The item kept changing under every one of ``MAX_ATTEMPTS`` conditional writes."""


class _Refused(Exception):
    """A conditional write or transaction was refused; ``reasons`` are a transaction's."""

    def __init__(self, code: str, reasons: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.reasons = reasons


class _NotLive(Exception):
    """A scheduled transaction was refused because the configuration is not live."""


@dataclass(frozen=True)
class WantResult:
    """What ``want()`` did.

    ``outcome``: ``created`` (first holder), ``joined`` (added to the holders, or made a
    vanished ``pre-existing`` pair ``granted``), ``held`` (already a holder: nothing written) or
    ``skipped`` (a scheduled run for a configuration that is not live: nothing written).
    ``must_grant``: the pair is this tool's (``granted``) and WorkSpaces did not list it, so the
    caller grants it now.
    """

    outcome: str
    origin: str | None
    must_grant: bool

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"

    @property
    def reason(self) -> str:
        if self.skipped:
            return SKIPPED_REASON
        return f"{self.outcome} ({self.origin}){': grant now' if self.must_grant else ''}"


@dataclass(frozen=True)
class ReleaseResult:
    """What ``release()`` did.

    ``outcome``: ``missing`` (no such pair), ``not-holder`` (the configuration did not hold it),
    ``left`` (removed from the holders; others still hold it) or ``deleted`` (it was the last
    holder: the pair is gone). ``must_revoke``: the last holder released a ``granted`` pair, so
    the caller revokes it now; never for a ``pre-existing`` one.
    """

    outcome: str
    origin: str | None
    must_revoke: bool

    @property
    def was_last_holder(self) -> bool:
        """The release deleted the pair (whatever its origin)."""
        return self.outcome == "deleted"

    @property
    def reason(self) -> str:
        return f"{self.outcome} ({self.origin}){': revoke now' if self.must_revoke else ''}"


@dataclass(frozen=True)
class _Pair:
    holders: frozenset[str]
    origin: str
    version: int


def client_config() -> Config:
    """botocore settings for the ledger: standard retries, short timeouts."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": CLIENT_MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _pair_key(image_id: str, account_id: str) -> dict[str, Any]:
    return {"pk": _s(f"PAIR#{image_id}"), "sk": _s(account_id)}


def _config_key(config_id: str) -> dict[str, Any]:
    return {"pk": _s(f"CONFIG#{config_id}"), "sk": _s(CONFIG_SORT_KEY)}


def _properties_key(config_id: str, digest: str) -> dict[str, Any]:
    return {"pk": _s(f"PROPS#{config_id}"), "sk": _s(digest)}


def _parse_pair(item: dict[str, Any]) -> _Pair:
    try:
        return _Pair(
            holders=frozenset(item.get("holders", {}).get("SS", [])),
            origin=str(item["origin"]["S"]),
            version=int(item["version"]["N"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerError(f"malformed pair item {item.get('pk')}/{item.get('sk')}") from error


def _require(**values: str) -> None:
    for name, value in values.items():
        if not value:
            raise ValueError(f"{name} must not be empty")


class ShareLedger:
    """The ledger in one table: ``ShareLedger(boto3.client("dynamodb"), table_name)``."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int | None = None,
    ) -> None:
        """``sleep`` waits between attempts of a refused write; ``page_size`` sets Query's
        Limit (DynamoDB's 1 MB pages when None)."""
        self.client = client
        self.table_name = table_name
        self._sleep = sleep
        self._page_size = page_size

    # Configurations.

    def mark_live(self, config_id: str) -> None:
        """Record that the configuration is live (a CloudFormation Create or Update)."""
        self._set_state(config_id, LIVE)

    def mark_deleted(self, config_id: str) -> None:
        """Record that the configuration is being deleted: scheduled wants of it are skipped."""
        self._set_state(config_id, DELETED)

    def is_live(self, config_id: str) -> bool:
        """Whether the configuration is marked live (never marked: False)."""
        _require(config_id=config_id)
        item = self._get(_config_key(config_id))
        return item is not None and item.get("state", {}).get("S") == LIVE

    def store_properties(self, config_id: str, properties: dict[str, Any]) -> str:
        """Store a resource's ``properties`` for its scheduled runs; return their digest (the
        same properties always make the same digest and item). Raises LedgerError, writing
        nothing, when they are too large for one item."""
        _require(config_id=config_id)
        stored = json.dumps(properties, sort_keys=True, separators=(",", ":"))
        if len(stored.encode()) > MAX_PROPERTIES_BYTES:
            raise LedgerError(
                f"the properties take {len(stored.encode())} bytes, more than the "
                f"{MAX_PROPERTIES_BYTES} a ledger item holds: split the accounts across resources"
            )
        digest = hashlib.sha256(stored.encode()).hexdigest()
        self._call(
            "put_item",
            {
                "TableName": self.table_name,
                "Item": {**_properties_key(config_id, digest), "properties": _s(stored)},
            },
        )
        return digest

    def stored_properties(self, config_id: str, digest: str) -> dict[str, Any] | None:
        """The properties stored under ``digest``, or None when none are (stored before the
        configuration format 2)."""
        _require(config_id=config_id, digest=digest)
        item = self._get(_properties_key(config_id, digest))
        if item is None:
            return None
        try:
            return dict(json.loads(item["properties"]["S"]))
        except (KeyError, TypeError, ValueError) as error:
            raise LedgerError(f"malformed properties item of {config_id}") from error

    def _set_state(self, config_id: str, state: str) -> None:
        _require(config_id=config_id)
        request = {
            "TableName": self.table_name,
            "Key": _config_key(config_id),
            "UpdateExpression": "SET #s = :s ADD #v :one",
            "ExpressionAttributeNames": {"#s": "state", "#v": "version"},
            "ExpressionAttributeValues": {":s": _s(state), ":one": _n(1)},
        }
        for attempt in self._attempts(f"marking {config_id} {state}"):
            try:
                self._call("update_item", request)
                return
            except _Refused:  # a transaction was checking the item: try again
                self._backoff(attempt)

    # Pairs.

    def want(
        self,
        image_id: str,
        account_id: str,
        config_id: str,
        already_shared: bool,
        *,
        scheduled: bool,
    ) -> WantResult:
        """Record that the configuration wants the image shared with the account.

        ``already_shared``: WorkSpaces lists the account for the image (read just before).
        A new pair is ``pre-existing`` if so, else ``granted``. With ``scheduled``, the write is
        a transaction that also checks that the configuration is live; when it is not, nothing
        is written and the result is ``skipped``.
        """
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        key = _pair_key(image_id, account_id)
        for attempt in self._attempts(f"wanting {image_id}/{account_id} for {config_id}"):
            pair = self._get_pair(key)
            if pair is None:
                origin = PRE_EXISTING if already_shared else GRANTED
                outcome = "created"
                write = {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **key,
                            "holders": {"SS": [config_id]},
                            "origin": _s(origin),
                            "version": _n(1),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            else:
                # A pre-existing share that WorkSpaces no longer lists: the caller's grant
                # makes it this tool's.
                take_over = pair.origin == PRE_EXISTING and not already_shared
                origin = GRANTED if take_over else pair.origin
                if config_id in pair.holders and not take_over:
                    if scheduled and not self.is_live(config_id):
                        return WantResult("skipped", None, must_grant=False)
                    must_grant = origin == GRANTED and not already_shared
                    return WantResult("held", origin, must_grant=must_grant)
                outcome = "joined"
                write = {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": key,
                        "UpdateExpression": "SET #o = :o, #v = :next ADD #h :c",
                        "ConditionExpression": "#v = :read",
                        "ExpressionAttributeNames": {
                            "#h": "holders",
                            "#o": "origin",
                            "#v": "version",
                        },
                        "ExpressionAttributeValues": {
                            ":c": {"SS": [config_id]},
                            ":o": _s(origin),
                            ":read": _n(pair.version),
                            ":next": _n(pair.version + 1),
                        },
                    }
                }
            try:
                self._write(write, config_id if scheduled else None)
            except _NotLive:
                return WantResult("skipped", None, must_grant=False)
            except _Refused:
                self._backoff(attempt)
                continue
            return WantResult(outcome, origin, must_grant=origin == GRANTED and not already_shared)
        raise AssertionError("unreachable")  # pragma: no cover

    def release(self, image_id: str, account_id: str, config_id: str) -> ReleaseResult:
        """Record that the configuration no longer wants the pair. The last holder deletes the
        item; ``must_revoke`` then says whether the caller revokes the share (``granted``) or
        leaves it (``pre-existing``)."""
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        key = _pair_key(image_id, account_id)
        for attempt in self._attempts(f"releasing {image_id}/{account_id} for {config_id}"):
            pair = self._get_pair(key)
            if pair is None:
                return ReleaseResult("missing", None, must_revoke=False)
            if config_id not in pair.holders:
                return ReleaseResult("not-holder", pair.origin, must_revoke=False)
            last = pair.holders == {config_id}
            try:
                if last:
                    self._call(
                        "delete_item",
                        {
                            "TableName": self.table_name,
                            "Key": key,
                            "ConditionExpression": "#v = :read",
                            "ExpressionAttributeNames": {"#v": "version"},
                            "ExpressionAttributeValues": {":read": _n(pair.version)},
                        },
                    )
                else:
                    self._call(
                        "update_item",
                        {
                            "TableName": self.table_name,
                            "Key": key,
                            "UpdateExpression": "SET #v = :next DELETE #h :c",
                            "ConditionExpression": "#v = :read",
                            "ExpressionAttributeNames": {"#h": "holders", "#v": "version"},
                            "ExpressionAttributeValues": {
                                ":c": {"SS": [config_id]},
                                ":read": _n(pair.version),
                                ":next": _n(pair.version + 1),
                            },
                        },
                    )
            except _Refused:
                self._backoff(attempt)
                continue
            if last:
                return ReleaseResult("deleted", pair.origin, must_revoke=pair.origin == GRANTED)
            return ReleaseResult("left", pair.origin, must_revoke=False)
        raise AssertionError("unreachable")  # pragma: no cover

    def holds(self, image_id: str, account_id: str, config_id: str) -> bool:
        """Whether the configuration is among the pair's holders (read now)."""
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        pair = self._get_pair(_pair_key(image_id, account_id))
        return pair is not None and config_id in pair.holders

    def is_held(self, image_id: str, account_id: str) -> bool:
        """Whether any configuration holds the pair (read now)."""
        _require(image_id=image_id, account_id=account_id)
        pair = self._get_pair(_pair_key(image_id, account_id))
        return pair is not None and bool(pair.holders)

    def holdings(self, image_id: str, config_id: str) -> set[str]:
        """The accounts whose pair with the image the configuration holds (every page)."""
        _require(image_id=image_id, config_id=config_id)
        return {
            str(item["sk"]["S"])
            for item in self._query(
                image_id,
                FilterExpression="contains(#h, :c)",
                ProjectionExpression="sk",
                ExpressionAttributeNames={"#h": "holders"},
                ExpressionAttributeValues={":c": _s(config_id)},
            )
        }

    def pairs(self, image_id: str) -> dict[str, tuple[frozenset[str], str]]:
        """Every recorded pair of the image: account -> (holders, origin)."""
        _require(image_id=image_id)
        pairs: dict[str, tuple[frozenset[str], str]] = {}
        for item in self._query(image_id):
            pair = _parse_pair(item)
            pairs[str(item["sk"]["S"])] = (pair.holders, pair.origin)
        return pairs

    # DynamoDB.

    def _attempts(self, what: str) -> Iterator[int]:
        yield from range(MAX_ATTEMPTS)
        raise LedgerConflict(
            f"{what}: the ledger item changed under each of {MAX_ATTEMPTS} attempts"
        )

    def _backoff(self, attempt: int) -> None:
        logger.debug("conditional write refused (attempt %s); reading again", attempt + 1)
        if attempt + 1 < MAX_ATTEMPTS:
            cap = min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
            self._sleep(random.uniform(0, cap))

    def _write(self, write: dict[str, Any], live_config_id: str | None) -> None:
        """One conditional write; with ``live_config_id``, a transaction that also checks that
        the configuration is live (raises _NotLive when that check fails)."""
        if live_config_id is None:
            ((kind, request),) = write.items()
            self._call("put_item" if kind == "Put" else "update_item", request)
            return
        check = {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": _config_key(live_config_id),
                "ConditionExpression": "#s = :live",
                "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": {":live": _s(LIVE)},
            }
        }
        try:
            self._call("transact_write_items", {"TransactItems": [check, write]})
        except _Refused as refused:
            if refused.code != _TRANSACTION_CANCELED:
                raise
            if refused.reasons:
                if refused.reasons[0] == _REASON_CONDITION:
                    raise _NotLive from refused
                if not set(refused.reasons) <= _RETRYABLE_REASONS:
                    raise LedgerError(
                        f"DynamoDB TransactWriteItems on {self.table_name} canceled: "
                        f"{', '.join(refused.reasons)}"
                    ) from refused
            elif not self.is_live(live_config_id):  # no reasons given: read the state
                raise _NotLive from refused
            raise

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        answer = self._call(
            "get_item", {"TableName": self.table_name, "Key": key, "ConsistentRead": True}
        )
        item = answer.get("Item")
        return dict(item) if item else None

    def _get_pair(self, key: dict[str, Any]) -> _Pair | None:
        item = self._get(key)
        return None if item is None else _parse_pair(item)

    def _query(self, image_id: str, **extra: Any) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ConsistentRead": True,
            **extra,
        }
        request["ExpressionAttributeValues"] = {
            ":pk": _s(f"PAIR#{image_id}"),
            **extra.get("ExpressionAttributeValues", {}),
        }
        if self._page_size is not None:
            request["Limit"] = self._page_size
        while True:
            page = self._call("query", request)
            yield from page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Call the client; refusals become _Refused, other failures LedgerError."""
        try:
            return dict(getattr(self.client, operation)(**request))
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", "Unknown"))
            if code in _REFUSALS:
                reasons = [
                    str(reason.get("Code", _REASON_NONE))
                    for reason in error.response.get("CancellationReasons", [])
                ]
                raise _Refused(code, reasons) from error
            message = str(details.get("Message", ""))[:_MESSAGE_LENGTH]
            raise LedgerError(
                f"DynamoDB {error.operation_name} on {self.table_name} failed: {code}: {message}"
            ) from error
        except BotoCoreError as error:
            name = "".join(part.title() for part in operation.split("_"))
            raise LedgerError(
                f"DynamoDB {name} on {self.table_name} failed: {type(error).__name__}"
            ) from error
