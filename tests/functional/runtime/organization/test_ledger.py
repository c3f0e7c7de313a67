"""The share ledger on the local DynamoDB: origins, holders, versions, overlapping writers."""

from __future__ import annotations

import itertools
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import LEDGER_OPERATIONS
from rehearsal.faults import Fault
from rehearsal.local_aws import LocalAws
from tests.support.ledger import BeforeWrites, create_ledger_table, table_items
from tests.support.values import sample_accounts

IMAGE = "wsi-0123456789"
OTHER_IMAGE = "wsi-9876543210"
ACCOUNT = "111122223333"
# Configuration IDs are opaque physical IDs: nothing may parse them.
CONFIG_A = "OrgShare-A/9f86d081#1"
CONFIG_B = "OrgShare-B/60303ae2#1"
CONFIG_C = "OrgShare-C/fd61a03a#2"
CONFIG_D = "OrgShare-D/4e07408c#3"  # never marked live
PAIR_KEY = (f"PAIR#{IMAGE}", ACCOUNT)


@pytest.fixture
def share_ledger(handler_modules: dict[str, ModuleType]) -> ModuleType:
    return handler_modules["organization.ledger"]


@pytest.fixture
def dynamodb(aws: LocalAws) -> Any:
    return aws.client("dynamodb")


@pytest.fixture
def table(dynamodb: Any) -> str:
    """A ledger table whose configurations A, B and C are live (a CloudFormation event marked
    them so before wanting anything), unless a test says otherwise."""
    name = create_ledger_table(dynamodb)
    for config_id in (CONFIG_A, CONFIG_B, CONFIG_C):
        dynamodb.put_item(
            TableName=name,
            Item={
                "pk": {"S": f"CONFIG#{config_id}"},
                "sk": {"S": "CONFIG"},
                "state": {"S": "live"},
                "version": {"N": "1"},
            },
        )
    return name


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def ledger(share_ledger: ModuleType, dynamodb: Any, table: str, sleeps: list[float]) -> Any:
    return share_ledger.ShareLedger(dynamodb, table, sleep=sleeps.append)


def interleaved(
    share_ledger: ModuleType, dynamodb: Any, table: str, meanwhile: Any, times: int = 1
) -> tuple[Any, BeforeWrites]:
    """A second ledger on the same table whose next ``times`` writes each wait for
    ``meanwhile`` (run between its read and its conditional write)."""
    client = BeforeWrites(dynamodb, meanwhile, times)
    return share_ledger.ShareLedger(client, table, sleep=lambda _: None), client


def pair_item(dynamodb: Any, table: str, image_id: str = IMAGE, account: str = ACCOUNT) -> Any:
    return table_items(dynamodb, table).get((f"PAIR#{image_id}", account))


def holders(item: dict[str, Any]) -> set[str]:
    return set(item.get("holders", {}).get("SS", []))


def version(item: dict[str, Any]) -> int:
    return int(item["version"]["N"])


def writes(aws: LocalAws) -> int:
    calls = aws.faults.calls
    return sum(
        calls[name] for name in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
    )


# Configurations.


def test_configuration_state_is_marked_and_read(ledger: Any, dynamodb: Any, table: str) -> None:
    assert not ledger.is_live(CONFIG_D)  # never marked
    ledger.mark_live(CONFIG_D)
    assert ledger.is_live(CONFIG_D)
    ledger.mark_deleted(CONFIG_D)
    assert not ledger.is_live(CONFIG_D)
    ledger.mark_live(CONFIG_D)  # a configuration can come back (an Update back to it)
    assert ledger.is_live(CONFIG_D) and not ledger.is_live("OrgShare-E/never#4")
    item = table_items(dynamodb, table)[(f"CONFIG#{CONFIG_D}", "CONFIG")]
    assert item["state"] == {"S": "live"} and version(item) == 3


# Origins.


def test_the_first_want_of_an_unlisted_pair_records_the_grant_before_it_is_made(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("created", "granted", True)
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A}
    assert item["origin"] == {"S": "granted"} and version(item) == 1


def test_the_first_want_of_a_listed_pair_records_it_as_pre_existing(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_A, True, scheduled=False)
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("created", "pre-existing", False)
    assert pair_item(dynamodb, table)["origin"] == {"S": "pre-existing"}


@pytest.mark.parametrize("first_listed", [False, True])
def test_another_configuration_joins_the_holders_and_keeps_the_origin(
    ledger: Any, dynamodb: Any, table: str, first_listed: bool
) -> None:
    origin = "pre-existing" if first_listed else "granted"
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, first_listed, scheduled=False)
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False)
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("joined", origin, False)
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A, CONFIG_B}
    assert item["origin"] == {"S": origin} and version(item) == 2


def test_wanting_a_held_pair_again_writes_nothing(ledger: Any, aws: LocalAws) -> None:
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    before = writes(aws)
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_A, True, scheduled=False)
    assert (wanted.outcome, wanted.must_grant) == ("held", False)
    assert writes(aws) == before


def test_a_grant_lost_after_its_record_is_asked_for_again(
    ledger: Any, aws: LocalAws, dynamodb: Any, table: str
) -> None:
    """The run stopped between the write and the grant: WorkSpaces does not list the pair, the
    ledger says this tool granted it, so the next want says grant (and writes nothing)."""
    assert ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False).must_grant
    before = writes(aws)
    again = ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    assert (again.outcome, again.origin, again.must_grant) == ("held", "granted", True)
    assert writes(aws) == before and version(pair_item(dynamodb, table)) == 1


def test_a_pre_existing_share_that_vanished_becomes_this_tools_grant(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    """Someone revoked the share that existed before: the grant the caller now makes is this
    tool's, and the last release revokes it."""
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, True, scheduled=False)
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("joined", "granted", True)
    item = pair_item(dynamodb, table)
    assert item["origin"] == {"S": "granted"} and holders(item) == {CONFIG_A}
    assert version(item) == 2
    assert ledger.release(IMAGE, ACCOUNT, CONFIG_A).must_revoke


# Releases.


def test_a_release_by_one_of_several_holders_keeps_the_pair(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False)
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (released.outcome, released.must_revoke, released.was_last_holder) == (
        "left",
        False,
        False,
    )
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_B} and version(item) == 3


@pytest.mark.parametrize(
    ("listed_when_first_wanted", "origin", "must_revoke"),
    [(False, "granted", True), (True, "pre-existing", False)],
)
def test_the_last_release_revokes_only_what_this_tool_granted(
    ledger: Any,
    dynamodb: Any,
    table: str,
    listed_when_first_wanted: bool,
    origin: str,
    must_revoke: bool,
) -> None:
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, listed_when_first_wanted, scheduled=False)
    ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False)
    assert not ledger.release(IMAGE, ACCOUNT, CONFIG_B).must_revoke
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (released.outcome, released.origin) == (
        "revoking" if must_revoke else "deleted",
        origin,
    )
    assert released.must_revoke is must_revoke
    assert released.was_last_holder
    item = pair_item(dynamodb, table)
    if must_revoke:  # visible, still held by A, until the revoke is done
        assert item["phase"] == {"S": "revoking"} and holders(item) == {CONFIG_A}
        assert ledger.finish_revoke(IMAGE, ACCOUNT, released.version)
        item = pair_item(dynamodb, table)
        assert item["phase"] == {"S": "revoked"} and not holders(item)
        assert ledger.pairs(IMAGE) == {} and ledger.holdings(IMAGE, CONFIG_A) == set()
    else:
        assert item is None


def test_a_release_of_an_unknown_pair_or_by_a_non_holder_changes_nothing(
    ledger: Any, aws: LocalAws, dynamodb: Any, table: str
) -> None:
    missing = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (missing.outcome, missing.must_revoke) == ("missing", False)
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    before = writes(aws)
    stranger = ledger.release(IMAGE, ACCOUNT, CONFIG_B)
    assert (stranger.outcome, stranger.must_revoke) == ("not-holder", False)
    assert writes(aws) == before and holders(pair_item(dynamodb, table)) == {CONFIG_A}


# Reads.


def test_holdings_and_pairs_read_every_page(
    share_ledger: ModuleType, dynamodb: Any, table: str, aws: LocalAws
) -> None:
    ledger = share_ledger.ShareLedger(dynamodb, table, page_size=4)
    accounts = sample_accounts(30)
    for number, account in enumerate(accounts):
        ledger.want(IMAGE, account, CONFIG_A if number % 2 else CONFIG_B, False, scheduled=False)
    ledger.want(IMAGE, accounts[0], CONFIG_A, True, scheduled=False)  # held by both
    ledger.want(OTHER_IMAGE, accounts[2], CONFIG_A, True, scheduled=False)  # another image
    aws.faults.calls.clear()

    odd = {account for number, account in enumerate(accounts) if number % 2}
    assert ledger.holdings(IMAGE, CONFIG_A) == odd | {accounts[0]}
    assert aws.faults.calls["Query"] >= 30 // 4  # every page, the empty ones too
    assert ledger.holdings(IMAGE, CONFIG_C) == set()

    record = share_ledger.PairRecord
    pairs = ledger.pairs(IMAGE)
    assert set(pairs) == set(accounts)
    assert pairs[accounts[0]] == record(frozenset({CONFIG_A, CONFIG_B}), "granted")
    assert pairs[accounts[1]] == record(frozenset({CONFIG_A}), "granted")
    assert ledger.pairs(OTHER_IMAGE) == {accounts[2]: record(frozenset({CONFIG_A}), "pre-existing")}


def test_holds_says_whether_the_configuration_is_a_holder(ledger: Any) -> None:
    assert not ledger.holds(IMAGE, ACCOUNT, CONFIG_A)
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    assert ledger.holds(IMAGE, ACCOUNT, CONFIG_A)
    assert not ledger.holds(IMAGE, ACCOUNT, CONFIG_B)


def test_every_read_is_consistent_and_every_call_is_in_the_iam_actions(
    share_ledger: ModuleType, dynamodb: Any, table: str
) -> None:
    recorder = BeforeWrites(dynamodb, lambda: None, times=0)
    ledger = share_ledger.ShareLedger(recorder, table)
    ledger.mark_live(CONFIG_A)
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=True)
    ledger.want(IMAGE, ACCOUNT, CONFIG_B, False, scheduled=False)
    ledger.holds(IMAGE, ACCOUNT, CONFIG_A)
    ledger.holdings(IMAGE, CONFIG_A)
    ledger.pairs(IMAGE)
    ledger.release(IMAGE, ACCOUNT, CONFIG_B)
    ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    ledger.mark_deleted(CONFIG_A)
    ledger.is_live(CONFIG_A)

    reads = [request for method, request in recorder.calls if method in ("get_item", "query")]
    assert reads and all(request["ConsistentRead"] is True for request in reads)
    actions = set()
    for method, request in recorder.calls:
        if method == "transact_write_items":
            for action in request["TransactItems"]:
                (kind,) = action
                actions.add({"ConditionCheck": "ConditionCheckItem"}.get(kind, f"{kind}Item"))
        else:
            actions.add("".join(part.title() for part in method.split("_")))
    assert actions == set(LEDGER_OPERATIONS)


def test_empty_ids_are_refused(ledger: Any) -> None:
    with pytest.raises(ValueError, match="config_id"):
        ledger.want(IMAGE, ACCOUNT, "", False, scheduled=False)
    with pytest.raises(ValueError, match="account_id"):
        ledger.release(IMAGE, "", CONFIG_A)


# Overlapping writers: another writer's update lands between a read and its conditional write.


@pytest.mark.parametrize("scheduled", [False, True])
def test_a_want_made_between_another_wants_read_and_write_is_not_lost(
    share_ledger: ModuleType,
    ledger: Any,
    dynamodb: Any,
    table: str,
    scheduled: bool,
) -> None:
    for config in (CONFIG_A, CONFIG_B, CONFIG_C):
        ledger.mark_live(config)
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    first, client = interleaved(
        share_ledger,
        dynamodb,
        table,
        lambda: ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=scheduled),
    )
    wanted = first.want(IMAGE, ACCOUNT, CONFIG_C, True, scheduled=scheduled)
    assert wanted.outcome == "joined"
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A, CONFIG_B, CONFIG_C}  # B's update survived
    assert version(item) == 3
    # Every want is a transaction that checks the configuration is live.
    assert client.count("transact_write_items") == 2 and client.count("get_item") >= 2


def test_two_first_wants_at_once_both_end_up_holders(
    share_ledger: ModuleType, ledger: Any, dynamodb: Any, table: str
) -> None:
    first, client = interleaved(
        share_ledger,
        dynamodb,
        table,
        lambda: ledger.want(IMAGE, ACCOUNT, CONFIG_B, False, scheduled=False),
    )
    wanted = first.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    # A read no item and put one on attribute_not_exists: refused, it joined B's instead.
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("joined", "granted", True)
    assert client.count("transact_write_items") == 2  # the refused create, then the join
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A, CONFIG_B} and version(item) == 2


def test_a_release_made_between_another_releases_read_and_write_is_not_lost(
    share_ledger: ModuleType, ledger: Any, dynamodb: Any, table: str
) -> None:
    """Without the version condition A would write "holders minus A" over B's release: the
    pair would stay, held by B, and nobody would revoke it."""
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False)
    first, client = interleaved(
        share_ledger, dynamodb, table, lambda: ledger.release(IMAGE, ACCOUNT, CONFIG_B)
    )
    released = first.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (released.outcome, released.must_revoke) == ("revoking", True)
    assert client.count("update_item") == 2 and client.count("delete_item") == 0
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A} and item["phase"] == {"S": "revoking"}


def test_a_want_made_between_the_last_releases_read_and_delete_keeps_the_pair(
    share_ledger: ModuleType, ledger: Any, dynamodb: Any, table: str
) -> None:
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    first, client = interleaved(
        share_ledger,
        dynamodb,
        table,
        lambda: ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False),
    )
    released = first.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (released.outcome, released.must_revoke) == ("left", False)  # B still wants it
    assert client.count("update_item") == 2  # marking it revoking was refused, then leaving
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_B} and item["origin"] == {"S": "granted"}


def test_a_write_that_loses_every_attempt_raises_ledger_conflict(
    share_ledger: ModuleType, ledger: Any, dynamodb: Any, table: str
) -> None:
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    others = (f"Other-{number}" for number in itertools.count())
    attempts = share_ledger.MAX_ATTEMPTS
    sleeps: list[float] = []

    def another_joins() -> None:
        other = next(others)
        ledger.mark_live(other)
        ledger.want(IMAGE, ACCOUNT, other, True, scheduled=False)

    client = BeforeWrites(dynamodb, another_joins, times=attempts)
    first = share_ledger.ShareLedger(client, table, sleep=sleeps.append)
    with pytest.raises(share_ledger.LedgerConflict, match=f"each of {attempts} attempts"):
        first.want(IMAGE, ACCOUNT, CONFIG_C, True, scheduled=False)
    assert client.count("transact_write_items") == attempts
    assert len(sleeps) == attempts - 1 and all(0 <= wait <= 0.5 for wait in sleeps)
    assert CONFIG_C not in holders(pair_item(dynamodb, table))
    assert issubclass(share_ledger.LedgerConflict, share_ledger.LedgerError)


# Scheduled runs and the configuration's Delete.


def test_moto_cancels_transactions_as_dynamodb_documents(dynamodb: Any, table: str) -> None:
    """The scheduled-want tests rely on this: if it fails, they prove nothing."""
    config = {"pk": {"S": "CONFIG#x"}, "sk": {"S": "CONFIG"}}
    pair = {"pk": {"S": "PAIR#i"}, "sk": {"S": ACCOUNT}}
    dynamodb.put_item(TableName=table, Item={**config, "state": {"S": "deleted"}})

    def transaction(pair_condition: str) -> list[str] | None:
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": config,
                            "ConditionExpression": "#s = :live",
                            "ExpressionAttributeNames": {"#s": "state"},
                            "ExpressionAttributeValues": {":live": {"S": "live"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {**pair, "version": {"N": "1"}},
                            "ConditionExpression": pair_condition,
                        }
                    },
                ]
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TransactionCanceledException"
            return [reason["Code"] for reason in error.response.get("CancellationReasons", [])]
        return None

    problem = "moto no longer cancels TransactWriteItems as DynamoDB documents"
    reasons = transaction("attribute_not_exists(pk)")
    assert reasons == ["ConditionalCheckFailed", "None"], f"{problem}: {reasons}"
    assert (pair["pk"]["S"], ACCOUNT) not in table_items(dynamodb, table), (
        f"{problem}: a canceled transaction wrote its Put"
    )
    dynamodb.put_item(TableName=table, Item={**config, "state": {"S": "live"}})
    reasons = transaction("attribute_exists(pk)")
    assert reasons == ["None", "ConditionalCheckFailed"], f"{problem}: {reasons}"
    assert transaction("attribute_not_exists(pk)") is None, f"{problem}: refused a valid one"
    assert (pair["pk"]["S"], ACCOUNT) in table_items(dynamodb, table)


def test_a_scheduled_want_of_a_live_configuration_writes_in_one_transaction(
    ledger: Any, aws: LocalAws, dynamodb: Any, table: str
) -> None:
    ledger.mark_live(CONFIG_A)
    ledger.mark_live(CONFIG_B)
    aws.faults.calls.clear()
    assert ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=True).must_grant
    assert ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=True).outcome == "joined"
    assert aws.faults.calls["TransactWriteItems"] == 2
    assert aws.faults.calls["PutItem"] == aws.faults.calls["UpdateItem"] == 0
    assert holders(pair_item(dynamodb, table)) == {CONFIG_A, CONFIG_B}


@pytest.mark.parametrize("pair_before", ["none", "held by another", "held by it, unlisted"])
@pytest.mark.parametrize("marked", ["deleted", "never marked"])
def test_a_scheduled_want_of_a_configuration_that_is_not_live_writes_nothing(
    ledger: Any, aws: LocalAws, dynamodb: Any, table: str, pair_before: str, marked: str
) -> None:
    config = CONFIG_A if marked == "deleted" else CONFIG_D
    if pair_before == "held by another":
        ledger.want(IMAGE, ACCOUNT, CONFIG_B, False, scheduled=False)
    if pair_before == "held by it, unlisted":  # it would say grant, were the config live
        ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    if marked == "deleted":
        ledger.mark_deleted(CONFIG_A)
    before = table_items(dynamodb, table)
    wanted = ledger.want(IMAGE, ACCOUNT, config, False, scheduled=True)
    assert wanted.skipped and not wanted.must_grant
    assert wanted.reason == "configuration not live: skipped"
    assert table_items(dynamodb, table) == before


def test_a_delete_between_a_scheduled_wants_read_and_write_wins(
    share_ledger: ModuleType, ledger: Any, dynamodb: Any, table: str
) -> None:
    """The Delete marks the configuration deleted and releases what it holds; the scheduled
    run that read the pair before cannot add the configuration back afterwards."""
    ledger.mark_live(CONFIG_A)
    ledger.want(IMAGE, ACCOUNT, CONFIG_B, False, scheduled=False)

    def delete() -> None:
        ledger.mark_deleted(CONFIG_A)
        for account in ledger.holdings(IMAGE, CONFIG_A):
            ledger.release(IMAGE, account, CONFIG_A)

    scheduled_run, client = interleaved(share_ledger, dynamodb, table, delete)
    wanted = scheduled_run.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=True)
    assert wanted.skipped and client.count("transact_write_items") == 1
    assert holders(pair_item(dynamodb, table)) == {CONFIG_B}
    assert ledger.holdings(IMAGE, CONFIG_A) == set()


@pytest.mark.parametrize("live", [True, False])
def test_a_canceled_transaction_without_reasons_reads_the_state_again(
    ledger: Any, aws: LocalAws, dynamodb: Any, table: str, live: bool
) -> None:
    ledger.mark_live(CONFIG_A)
    if not live:
        ledger.mark_deleted(CONFIG_A)
    aws.faults.calls.clear()
    aws.faults.inject(
        Fault("TransactWriteItems", "error", error_code="TransactionCanceledException")
    )
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=True)
    assert wanted.skipped is not live
    assert aws.faults.calls["TransactWriteItems"] == (2 if live else 1)
    assert (pair_item(dynamodb, table) is not None) is live


# DynamoDB failures.


def test_a_transaction_conflict_on_a_configuration_mark_is_retried(
    ledger: Any, aws: LocalAws
) -> None:
    aws.faults.inject(
        Fault("TransactWriteItems", "error", error_code="TransactionConflictException")
    )
    ledger.mark_deleted(CONFIG_A)
    assert aws.faults.calls["TransactWriteItems"] == 2
    assert [d.config_id for d in ledger.deleted_configurations()] == [CONFIG_A]


@pytest.mark.parametrize(
    ("target", "kind", "reason"),
    [
        ("GetItem", "error", "AccessDeniedException"),
        ("TransactWriteItems", "server_error", "InternalFailure"),
        ("GetItem", "refuse", "ConnectionClosedError"),
    ],
)
def test_dynamodb_failures_become_short_ledger_errors(
    share_ledger: ModuleType,
    ledger: Any,
    aws: LocalAws,
    table: str,
    target: str,
    kind: Any,
    reason: str,
) -> None:
    aws.faults.inject(Fault(target, kind, error_code="AccessDeniedException"))
    with pytest.raises(share_ledger.LedgerError) as raised:
        ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    message = str(raised.value)
    assert message.startswith(f"DynamoDB {target} on {table} failed: ")
    assert reason in message and len(message) < 300
    assert not isinstance(raised.value, share_ledger.LedgerConflict)


def test_a_missing_table_is_a_ledger_error(share_ledger: ModuleType, dynamodb: Any) -> None:
    ledger = share_ledger.ShareLedger(dynamodb, "no-such-table")
    with pytest.raises(share_ledger.LedgerError, match="ResourceNotFoundException"):
        ledger.is_live(CONFIG_A)


# What a run that stops part way, a redelivered request and an overlapping run leave.


def test_a_release_stays_visible_until_its_revoke_is_done(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    """A run that stops between marking the release and the revoke: a retried release of the
    same configuration is told to revoke again."""
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    first = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (first.outcome, first.must_revoke) == ("revoking", True)
    assert ledger.holdings(IMAGE, CONFIG_A) == {ACCOUNT}
    assert not ledger.is_held(IMAGE, ACCOUNT)  # nobody wants it any more
    again = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (again.outcome, again.must_revoke, again.version) == ("revoking", True, first.version)
    assert ledger.finish_revoke(IMAGE, ACCOUNT, again.version)
    assert ledger.holdings(IMAGE, CONFIG_A) == set()
    assert ledger.release(IMAGE, ACCOUNT, CONFIG_A).outcome == "missing"


def test_a_want_of_a_pair_being_revoked_grants_and_the_revoker_grants_back(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    """Both orders of a revoke and a concurrent want end shared: the want grants whatever its
    read of WorkSpaces said, and a revoke finishing after the want is told to grant back."""
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    wanted = ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False)  # listed before
    assert (wanted.outcome, wanted.origin, wanted.must_grant) == ("reclaimed", "granted", True)
    assert ledger.is_held(IMAGE, ACCOUNT)
    assert ledger.finish_revoke(IMAGE, ACCOUNT, released.version) is False
    item = pair_item(dynamodb, table)
    assert holders(item) == {CONFIG_A, CONFIG_B} and "phase" not in item


def test_a_want_on_a_read_of_workspaces_older_than_this_tools_revoke_grants(
    share_ledger: ModuleType, dynamodb: Any, table: str
) -> None:
    now = [1_000.0]
    ledger = share_ledger.ShareLedger(dynamodb, table, sleep=lambda _: None, clock=lambda: now[0])
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    listed_at = now[0]  # B's run reads WorkSpaces: the account is listed
    now[0] += 30
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A)  # A's run revokes it after that read
    assert ledger.finish_revoke(IMAGE, ACCOUNT, released.version)
    stale = ledger.want(IMAGE, ACCOUNT, CONFIG_B, True, scheduled=False, listed_at=listed_at)
    assert (stale.outcome, stale.origin, stale.must_grant) == ("created", "granted", True)

    # A read made well after the revoke that lists the account: someone shared it by hand.
    other = "444455556666"
    ledger.want(IMAGE, other, CONFIG_A, False, scheduled=False)
    released = ledger.release(IMAGE, other, CONFIG_A)
    assert ledger.finish_revoke(IMAGE, other, released.version)
    now[0] += 600
    fresh = ledger.want(IMAGE, other, CONFIG_B, True, scheduled=False, listed_at=now[0])
    assert (fresh.origin, fresh.must_grant) == ("pre-existing", False)


def test_a_redelivered_request_never_brings_a_deleted_configuration_back(
    ledger: Any, aws: LocalAws, share_ledger: ModuleType
) -> None:
    ledger.mark_live(CONFIG_A, "create-1")
    ledger.mark_live(CONFIG_A, "create-1")  # redelivered while live: harmless
    ledger.mark_deleted(CONFIG_A, "cleanup-2")
    assert [d.config_id for d in ledger.deleted_configurations()] == [CONFIG_A]
    with pytest.raises(share_ledger.RequestAlreadyProcessed):
        ledger.mark_live(CONFIG_A, "create-1")
    assert not ledger.is_live(CONFIG_A)
    ledger.mark_live(CONFIG_A, "update-3")  # A -> B -> A: a new request revives it
    assert ledger.is_live(CONFIG_A) and ledger.deleted_configurations() == []
    with pytest.raises(share_ledger.RequestAlreadyProcessed):
        ledger.mark_deleted(CONFIG_A, "cleanup-2")  # the old cleanup, redelivered late
    assert ledger.is_live(CONFIG_A)


def test_a_deleted_configurations_pairs_are_released_only_while_it_stays_deleted(
    ledger: Any,
) -> None:
    ledger.mark_live(CONFIG_A, "create-1")
    ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False)
    assert ledger.release(IMAGE, ACCOUNT, CONFIG_A, require_deleted=True).outcome == "skipped"
    ledger.mark_deleted(CONFIG_A, "delete-2")
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A, require_deleted=True)
    assert (released.outcome, released.must_revoke) == ("revoking", True)
    ledger.drop_deleted(ledger.deleted_configurations()[0])
    assert ledger.deleted_configurations() == []


def test_items_written_by_the_previous_release_are_read_as_they_were_meant(
    ledger: Any, dynamodb: Any, table: str
) -> None:
    """Pairs without a phase are held; configurations without requests take any request."""
    for item in (
        {
            "pk": {"S": f"PAIR#{IMAGE}"},
            "sk": {"S": ACCOUNT},
            "holders": {"SS": [CONFIG_A]},
            "origin": {"S": "granted"},
            "version": {"N": "3"},
        },
        {"pk": {"S": f"CONFIG#{CONFIG_A}"}, "sk": {"S": "CONFIG"}, "state": {"S": "live"}},
    ):
        dynamodb.put_item(TableName=table, Item=item)
    assert ledger.is_held(IMAGE, ACCOUNT) and ledger.holdings(IMAGE, CONFIG_A) == {ACCOUNT}
    ledger.mark_deleted(CONFIG_A, "delete-1")
    released = ledger.release(IMAGE, ACCOUNT, CONFIG_A)
    assert (released.outcome, released.must_revoke, released.version) == ("revoking", True, 4)


def test_a_want_of_any_trigger_for_a_deleted_configuration_writes_nothing(ledger: Any) -> None:
    """A redelivered Create whose wants come after its rollback Delete began."""
    ledger.mark_deleted(CONFIG_A, "rollback-delete")
    assert ledger.want(IMAGE, ACCOUNT, CONFIG_A, False, scheduled=False).skipped
    assert ledger.holdings(IMAGE, CONFIG_A) == set()
