"""What an organization share granted, kept in DynamoDB with conditional writes."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_plumbing import ClientSettings, DynamoDBClient
from ..contract import LEDGER_EXPIRES_ATTRIBUTE, LEDGER_PARTITION_KEY, LEDGER_SORT_KEY

logger = logging.getLogger(__name__)

GRANTED = "granted"
PRE_EXISTING = "pre-existing"
LIVE = "live"
DELETED = "deleted"
REVOKING = "revoking"
REVOKED = "revoked"
CONFIG_SORT_KEY = "CONFIG"
DELETED_CONFIGURATIONS_KEY = "DELETED"
SKIPPED_REASON = "configuration not live: skipped"
# A tombstone (removed by the table's TTL) outlives by far every run that may have read
# WorkSpaces before its revoke (a run lasts at most the function's Timeout).
TOMBSTONE_SECONDS = 86_400
# A tombstone written this close before a run read WorkSpaces still counts as after that read:
# the clocks of two Lambda containers may differ by this much.
CLOCK_SKEW_SECONDS = 5.0

# Attempts of one change while others keep changing the same item.
MAX_ATTEMPTS = 10
_BACKOFF_BASE_SECONDS = 0.02
_BACKOFF_MAX_SECONDS = 0.5
CLIENT_SETTINGS = ClientSettings(max_attempts=4, connect_timeout_seconds=2, read_timeout_seconds=5)
_MESSAGE_LENGTH = 120
# DynamoDB's item limit is 400 KB; what a properties item holds besides them is far smaller
# than what this leaves.
MAX_PROPERTIES_BYTES = 380_000

# The IAM actions the ledger calls, all on the table only. A transaction needs no action of its
# own: its Put, Update and Delete are authorized as PutItem, UpdateItem and DeleteItem, its
# ConditionCheck as ConditionCheckItem.

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


class LedgerError(RuntimeError):
    """DynamoDB failed (after botocore's retries). ``str()`` is a short reason."""


class LedgerConflict(LedgerError):
    """The item kept changing under every one of ``MAX_ATTEMPTS`` conditional writes."""


class RequestAlreadyProcessed(Exception):
    """A CloudFormation request whose RequestId already set the configuration's state, which
    another request has changed since: a redelivery, which must change nothing."""


class _Refused(Exception):
    """A conditional write or transaction was refused; ``reasons`` are a transaction's."""

    def __init__(self, code: str, reasons: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.reasons = reasons


class _NotInState(Exception):
    """A transaction was refused because the configuration is not in the state it required."""


@dataclass(frozen=True)
class WantResult:
    """What ``want()`` did.

    ``outcome``: ``created`` (first holder, or the first since this tool revoked it),
    ``joined`` (added to the holders, or made a vanished ``pre-existing`` pair ``granted``),
    ``reclaimed`` (added to a pair being revoked: the revoke is called off), ``held`` (already
    a holder: nothing written) or ``skipped`` (a run for a configuration that is not
    live: nothing written). ``must_grant``: the pair is this tool's (``granted``) and may not
    be shared now, so the caller grants it.
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
    ``left`` (removed from the holders; others still hold it), ``deleted`` (the last holder of a
    ``pre-existing`` pair: the pair is gone, the share stays), ``revoking`` (the last holder of
    a ``granted`` pair: it is marked ``revoking``) or ``skipped`` (the configuration is not in
    the state the release required: nothing written). ``must_revoke``: the caller revokes the
    share now, then calls ``finish_revoke(version=…)`` or ``forget(version=…)``.
    """

    outcome: str
    origin: str | None
    must_revoke: bool
    version: int = 0

    @property
    def was_last_holder(self) -> bool:
        """The configuration was the pair's last holder (whatever its origin)."""
        return self.outcome in ("deleted", "revoking")

    @property
    def reason(self) -> str:
        return f"{self.outcome} ({self.origin}){': revoke now' if self.must_revoke else ''}"


@dataclass(frozen=True)
class DeletedConfiguration:
    """A configuration among the deleted ones, and when its last Delete began."""

    config_id: str
    deleted_at: float


@dataclass(frozen=True)
class PairRecord:
    """One pair as the ledger holds it (tombstones are not pairs)."""

    holders: frozenset[str]
    origin: str
    revoking: bool = False


@dataclass(frozen=True)
class _Pair:
    holders: frozenset[str]
    origin: str
    version: int
    phase: str | None
    revoked_at: float

    @property
    def revoked(self) -> bool:
        return self.phase == REVOKED

    @property
    def revoking(self) -> bool:
        return self.phase == REVOKING


def stored_form(properties: dict[str, Any]) -> tuple[str, str]:
    """The text a properties item holds, and its digest (the item's sort key)."""
    text = json.dumps(properties, sort_keys=True, separators=(",", ":"))
    return text, hashlib.sha256(text.encode()).hexdigest()


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": str(value)}


def _pair_key(image_id: str, account_id: str) -> dict[str, Any]:
    return {LEDGER_PARTITION_KEY: _s(f"PAIR#{image_id}"), LEDGER_SORT_KEY: _s(account_id)}


def _config_key(config_id: str) -> dict[str, Any]:
    return {LEDGER_PARTITION_KEY: _s(f"CONFIG#{config_id}"), LEDGER_SORT_KEY: _s(CONFIG_SORT_KEY)}


def _deleted_key(config_id: str) -> dict[str, Any]:
    return {LEDGER_PARTITION_KEY: _s(DELETED_CONFIGURATIONS_KEY), LEDGER_SORT_KEY: _s(config_id)}


def _properties_key(config_id: str, digest: str) -> dict[str, Any]:
    return {LEDGER_PARTITION_KEY: _s(f"PROPS#{config_id}"), LEDGER_SORT_KEY: _s(digest)}


def _parse_pair(item: dict[str, Any]) -> _Pair:
    try:
        return _Pair(
            holders=frozenset(item.get("holders", {}).get("SS", [])),
            origin=str(item["origin"]["S"]),
            version=int(item["version"]["N"]),
            phase=item["phase"]["S"] if "phase" in item else None,
            revoked_at=float(item.get("revoked_at", {}).get("N", 0)),
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
        client: DynamoDBClient,
        table_name: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        page_size: int | None = None,
    ) -> None:
        """``sleep`` waits between attempts of a refused write; ``clock`` is the wall clock
        (epoch seconds) tombstones are dated with; ``page_size`` sets Query's Limit
        (DynamoDB's 1 MB pages when None)."""
        self.client = client
        self.table_name = table_name
        self._sleep = sleep
        self._clock = clock
        self._page_size = page_size

    # Configurations.

    def mark_live(self, config_id: str, request_id: str | None = None) -> None:
        """Record that the configuration is live (a CloudFormation Create or Update) and no
        longer among the deleted ones. Raises RequestAlreadyProcessed when ``request_id``
        already set the state and the configuration has been deleted since (a redelivered
        request): nothing is written."""
        self._set_state(config_id, LIVE, request_id, self._deleted_entry("Delete", config_id))

    def mark_deleted(self, config_id: str, request_id: str | None = None) -> None:
        """Record that the configuration is being deleted (scheduled wants of it are skipped)
        and among the deleted ones until it holds nothing. Raises RequestAlreadyProcessed when
        ``request_id`` already set the state and the configuration is live again since."""
        self._set_state(config_id, DELETED, request_id, self._deleted_entry("Put", config_id))

    def is_live(self, config_id: str) -> bool:
        """Whether the configuration is marked live (never marked: False)."""
        return self._state(config_id) == LIVE

    def deleted_configurations(self) -> list[DeletedConfiguration]:
        """The configurations marked deleted that may still hold pairs, with when (every
        page)."""
        return [
            DeletedConfiguration(
                str(item[LEDGER_SORT_KEY]["S"]), float(item.get("deleted_at", {}).get("N", 0))
            )
            for item in self._query(DELETED_CONFIGURATIONS_KEY)
        ]

    def drop_deleted(self, deleted: DeletedConfiguration) -> None:
        """Forget a deleted configuration that holds nothing any more, unless it is live again
        (which forgot it already) or was deleted again since ``deleted`` was read."""
        _require(config_id=deleted.config_id)
        with_key = self._deleted_entry("Delete", deleted.config_id)
        with_key["Delete"].update(
            ConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "deleted_at"},
            ExpressionAttributeValues={":d": _n(deleted.deleted_at)},
        )
        try:
            self._write(with_key, (deleted.config_id, DELETED))
        except _NotInState:
            return
        except _Refused:
            return  # a concurrent change: the next run looks again

    def _state(self, config_id: str) -> str | None:
        _require(config_id=config_id)
        item = self._get(_config_key(config_id))
        return None if item is None else item.get("state", {}).get("S")

    def _set_state(
        self, config_id: str, state: str, request_id: str | None, index: dict[str, Any]
    ) -> None:
        _require(config_id=config_id)
        names = {"#s": "state", "#v": "version"}
        values: dict[str, Any] = {":s": _s(state), ":one": _n(1)}
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _config_key(config_id),
            "UpdateExpression": "SET #s = :s ADD #v :one",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if request_id:
            names["#r"] = "requests"
            values[":r"] = {"SS": [request_id]}
            values[":rid"] = _s(request_id)
            update["UpdateExpression"] = "SET #s = :s ADD #v :one, #r :r"
            # A request seen before may set the state again only while it is still its own.
            update["ConditionExpression"] = (
                "attribute_not_exists(#r) OR NOT contains(#r, :rid) OR #s = :s"
            )
        for attempt in self._attempts(f"marking {config_id} {state}"):
            try:
                self._call("transact_write_items", {"TransactItems": [{"Update": update}, index]})
                return
            except _Refused as refused:
                if refused.reasons[:1] == [_REASON_CONDITION]:
                    raise RequestAlreadyProcessed(
                        f"request {request_id} already set {config_id}, which is no longer "
                        f"{state}: a redelivery, nothing done"
                    ) from refused
                self._backoff(attempt)

    # Properties.

    def store_properties(self, config_id: str, properties: dict[str, Any]) -> str:
        """Store a resource's ``properties`` for its scheduled runs; return their digest (the
        same properties always make the same digest and item). Raises LedgerError, writing
        nothing, when they are too large for one item."""
        _require(config_id=config_id)
        text, digest = stored_form(properties)
        if len(text.encode()) > MAX_PROPERTIES_BYTES:
            raise LedgerError(
                f"the properties take {len(text.encode())} bytes, more than the "
                f"{MAX_PROPERTIES_BYTES} a ledger item holds: split the accounts across resources"
            )
        self._call(
            "put_item",
            {
                "TableName": self.table_name,
                "Item": {**_properties_key(config_id, digest), "properties": _s(text)},
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

    # Pairs.

    def want(
        self,
        image_id: str,
        account_id: str,
        config_id: str,
        already_shared: bool,
        *,
        scheduled: bool,
        listed_at: float | None = None,
    ) -> WantResult:
        """Record that the configuration wants the image shared with the account.

        ``already_shared``: WorkSpaces listed the account for the image, in a read that started
        at ``listed_at`` (``clock()`` time; None: just now). A new pair is ``pre-existing`` if
        so, else ``granted``; but a pair this tool revoked after that read started, or is
        revoking, is this tool's to grant whatever the read said. The write is a transaction
        that also checks that the configuration is live (its Delete may have begun since the
        caller's run did); when it is not, nothing is written and the result is ``skipped``.
        ``scheduled`` (which trigger wants it) no longer changes anything: every want is
        checked alike.
        """
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        key = _pair_key(image_id, account_id)
        for attempt in self._attempts(f"wanting {image_id}/{account_id} for {config_id}"):
            pair = self._get_pair(key)
            if pair is None or pair.revoked:
                shared = already_shared and not (
                    pair is not None
                    and pair.revoked_at >= (listed_at or self._clock()) - CLOCK_SKEW_SECONDS
                )
                origin = PRE_EXISTING if shared else GRANTED
                outcome, must_grant = "created", not shared
                write = (
                    self._create(key, config_id, origin)
                    if pair is None
                    else self._update(
                        key, pair, "SET #o = :o ADD #h :c REMOVE #p, #t, #e", config_id, origin
                    )
                )
            elif pair.revoking:
                # Its revoke may land at any moment, or has: grant, whatever the read said.
                origin, outcome, must_grant = pair.origin, "reclaimed", True
                write = self._update(
                    key, pair, "SET #o = :o ADD #h :c REMOVE #p", config_id, origin
                )
            else:
                # A pre-existing share that WorkSpaces no longer lists: the caller's grant
                # makes it this tool's.
                take_over = pair.origin == PRE_EXISTING and not already_shared
                origin = GRANTED if take_over else pair.origin
                must_grant = origin == GRANTED and not already_shared
                if config_id in pair.holders and not take_over:
                    if not self.is_live(config_id):
                        return WantResult("skipped", None, must_grant=False)
                    return WantResult("held", origin, must_grant=must_grant)
                outcome = "joined"
                write = self._update(key, pair, "SET #o = :o ADD #h :c", config_id, origin)
            try:
                self._write(write, (config_id, LIVE))
            except _NotInState:
                return WantResult("skipped", None, must_grant=False)
            except _Refused:
                self._backoff(attempt)
                continue
            return WantResult(outcome, origin, must_grant=must_grant)
        raise AssertionError("unreachable")  # pragma: no cover

    def release(
        self, image_id: str, account_id: str, config_id: str, *, require_deleted: bool = False
    ) -> ReleaseResult:
        """Record that the configuration no longer wants the pair. The last holder of a
        ``pre-existing`` pair deletes it (the share stays); of a ``granted`` one, marks it
        ``revoking`` and is told to revoke (``must_revoke``, with the version to finish with).
        A pair already ``revoking`` by the configuration is told to revoke again (a retried
        release). With ``require_deleted`` (another configuration's run releasing a deleted
        one's pairs), the write checks that the configuration is still deleted."""
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        key = _pair_key(image_id, account_id)
        requirement = (config_id, DELETED) if require_deleted else None
        for attempt in self._attempts(f"releasing {image_id}/{account_id} for {config_id}"):
            pair = self._get_pair(key)
            if pair is None or pair.revoked:
                return ReleaseResult("missing", None, must_revoke=False)
            if config_id not in pair.holders:
                return ReleaseResult("not-holder", pair.origin, must_revoke=False)
            last = pair.holders == {config_id}
            if last and pair.revoking:
                return ReleaseResult("revoking", pair.origin, True, pair.version)
            write: dict[str, Any]
            if last and pair.origin == GRANTED:
                outcome = "revoking"
                write = self._update(key, pair, "SET #p = :p", None, None, {":p": _s(REVOKING)})
            elif last:
                outcome = "deleted"
                write = {"Delete": {**self._versioned(key, pair), "Key": key}}
            else:
                outcome = "left"
                write = self._update(key, pair, "DELETE #h :c", config_id, None)
            try:
                self._write(write, requirement)
            except _NotInState:
                return ReleaseResult("skipped", pair.origin, must_revoke=False)
            except _Refused:
                self._backoff(attempt)
                continue
            return ReleaseResult(outcome, pair.origin, outcome == "revoking", pair.version + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def finish_revoke(self, image_id: str, account_id: str, version: int) -> bool:
        """After the revoke a ``release()`` asked for: make the pair a tombstone dated now.
        False when the pair was wanted again meanwhile (its version moved on and it is held):
        the caller grants it back, since its revoke may have landed after that want's grant."""
        _require(image_id=image_id, account_id=account_id)
        key = _pair_key(image_id, account_id)
        now = self._clock()
        request = {
            "TableName": self.table_name,
            "Key": key,
            "UpdateExpression": "SET #p = :p, #t = :t, #e = :e, #v = :next REMOVE #h",
            "ConditionExpression": "#v = :read",
            "ExpressionAttributeNames": {
                "#p": "phase",
                "#t": "revoked_at",
                "#e": LEDGER_EXPIRES_ATTRIBUTE,
                "#v": "version",
                "#h": "holders",
            },
            "ExpressionAttributeValues": {
                ":p": _s(REVOKED),
                ":t": _n(round(now, 3)),
                ":e": _n(int(now + TOMBSTONE_SECONDS)),
                ":read": _n(version),
                ":next": _n(version + 1),
            },
        }
        try:
            self._call("update_item", request)
            return True
        except _Refused:
            pair = self._get_pair(key)
            return pair is None or pair.revoked or pair.revoking or not pair.holders

    def forget(self, image_id: str, account_id: str, version: int) -> None:
        """After a ``release()`` that asked for a revoke the caller must not make (another
        resource declares the pair): drop the pair, unless it was wanted again meanwhile."""
        _require(image_id=image_id, account_id=account_id)
        key = _pair_key(image_id, account_id)
        request = {
            "TableName": self.table_name,
            "Key": key,
            "ConditionExpression": "#v = :read",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":read": _n(version)},
        }
        try:
            self._call("delete_item", request)
        except _Refused:
            return  # wanted again: its new holder has it

    def holds(self, image_id: str, account_id: str, config_id: str) -> bool:
        """Whether the configuration is among the pair's holders (read now)."""
        _require(image_id=image_id, account_id=account_id, config_id=config_id)
        pair = self._get_pair(_pair_key(image_id, account_id))
        return pair is not None and config_id in pair.holders

    def is_held(self, image_id: str, account_id: str) -> bool:
        """Whether any configuration wants the pair (read now): held and not being revoked."""
        _require(image_id=image_id, account_id=account_id)
        pair = self._get_pair(_pair_key(image_id, account_id))
        return pair is not None and bool(pair.holders) and pair.phase is None

    def holdings(self, image_id: str, config_id: str) -> set[str]:
        """The accounts whose pair with the image the configuration holds, those it is
        revoking included (every page)."""
        _require(image_id=image_id, config_id=config_id)
        return {
            str(item[LEDGER_SORT_KEY]["S"])
            for item in self._query(
                f"PAIR#{image_id}",
                FilterExpression="contains(#h, :c)",
                ProjectionExpression=LEDGER_SORT_KEY,
                ExpressionAttributeNames={"#h": "holders"},
                ExpressionAttributeValues={":c": _s(config_id)},
            )
        }

    def pairs(self, image_id: str) -> dict[str, PairRecord]:
        """Every recorded pair of the image (tombstones aside): account -> its record."""
        _require(image_id=image_id)
        pairs: dict[str, PairRecord] = {}
        for item in self._query(f"PAIR#{image_id}"):
            pair = _parse_pair(item)
            if not pair.revoked:
                pairs[str(item[LEDGER_SORT_KEY]["S"])] = PairRecord(
                    pair.holders, pair.origin, pair.revoking
                )
        return pairs

    # Writes.

    def _deleted_entry(self, kind: str, config_id: str) -> dict[str, Any]:
        """A transaction's Put (dated now) or Delete of the configuration's entry among the
        deleted ones."""
        if kind == "Delete":
            return {"Delete": {"TableName": self.table_name, "Key": _deleted_key(config_id)}}
        item = {**_deleted_key(config_id), "deleted_at": _n(round(self._clock(), 3))}
        return {"Put": {"TableName": self.table_name, "Item": item}}

    def _create(self, key: dict[str, Any], config_id: str, origin: str) -> dict[str, Any]:
        item = {**key, "holders": {"SS": [config_id]}, "origin": _s(origin), "version": _n(1)}
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _versioned(self, key: dict[str, Any], pair: _Pair) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "ConditionExpression": "#v = :read",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":read": _n(pair.version)},
        }

    def _update(
        self,
        key: dict[str, Any],
        pair: _Pair,
        expression: str,
        config_id: str | None,
        origin: str | None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An Update of ``key`` conditional on ``pair``'s version, which it moves on by one;
        ``expression`` may name #h (holders) with :c (``config_id``), #o with :o (``origin``),
        #p (phase), #t (revoked_at) and #e (expires)."""
        request = self._versioned(key, pair)
        names = {
            **request["ExpressionAttributeNames"],
            "#h": "holders",
            "#o": "origin",
            "#p": "phase",
            "#t": "revoked_at",
            "#e": LEDGER_EXPIRES_ATTRIBUTE,
        }
        attributes = {
            **request["ExpressionAttributeValues"],
            ":next": _n(pair.version + 1),
            **(values or {}),
        }
        if config_id is not None:
            attributes[":c"] = {"SS": [config_id]}
        if origin is not None:
            attributes[":o"] = _s(origin)
        # SET the version in the expression's SET clause (or add one).
        if expression.startswith("SET "):
            expression = "SET #v = :next, " + expression[4:]
        else:
            expression = "SET #v = :next " + expression
        used = {name: value for name, value in names.items() if name in expression}
        return {
            "Update": {
                **request,
                "Key": key,
                "UpdateExpression": expression,
                "ExpressionAttributeNames": used,
                "ExpressionAttributeValues": attributes,
            }
        }

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

    def _write(self, write: dict[str, Any], requirement: tuple[str, str] | None) -> None:
        """One conditional write; with ``requirement`` (a configuration and a state), a
        transaction that also checks the configuration is in that state (raises _NotInState
        when that check fails)."""
        if requirement is None:
            ((kind, request),) = write.items()
            method = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}[kind]
            self._call(method, request)
            return
        config_id, state = requirement
        check = {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": _config_key(config_id),
                "ConditionExpression": "#s = :state",
                "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": {":state": _s(state)},
            }
        }
        try:
            self._call("transact_write_items", {"TransactItems": [check, write]})
        except _Refused as refused:
            if refused.code != _TRANSACTION_CANCELED:
                raise
            if refused.reasons:
                if refused.reasons[0] == _REASON_CONDITION:
                    raise _NotInState from refused
                if not set(refused.reasons) <= _RETRYABLE_REASONS:
                    raise LedgerError(
                        f"DynamoDB TransactWriteItems on {self.table_name} canceled: "
                        f"{', '.join(refused.reasons)}"
                    ) from refused
            elif self._state(config_id) != state:  # no reasons given: read the state
                raise _NotInState from refused
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

    def _query(self, partition: str, **extra: Any) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ConsistentRead": True,
            **extra,
        }
        request["ExpressionAttributeValues"] = {
            ":pk": _s(partition),
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
