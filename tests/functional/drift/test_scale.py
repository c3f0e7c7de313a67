"""Hundreds of shares and dozens of stacks: every page of every listing is read."""

from __future__ import annotations

import time

from moto.workspaces.models import workspaces_backends

from rehearsal.faults import Fault
from rehearsal.local_aws import ACCOUNT_ID, REGION, LocalAws
from tests.support.drift import Runner, shape_problems
from tests.support.stacks import hand_set_stack
from tests.support.values import DESCRIBE, sample_accounts

SHARES = 150
BIG_STACK_SHARES = 120  # ListStackResources pages hold 100


def test_150_shares_in_31_stacks_read_in_full(aws: LocalAws, image_id: str, cli: Runner) -> None:
    accounts = sample_accounts(SHARES)
    # Shared straight in moto's state (the server runs in this process): 150 grants take seconds.
    image = workspaces_backends[ACCOUNT_ID][REGION].workspace_images[image_id]
    image.image_permissions.extend({"SharedAccountId": account} for account in accounts)
    big = hand_set_stack(aws, "Big", "UPDATE_COMPLETE")
    for number, account in enumerate(accounts[:BIG_STACK_SHARES]):
        big.hold(f"Share{number:03}", f"{image_id}/{account}")
    for number, account in enumerate(accounts[BIG_STACK_SHARES:]):
        hand_set_stack(aws, f"Small{number:02}", "CREATE_COMPLETE").hold(
            "Share", f"{image_id}/{account}"
        )
    assert aws.shared_accounts(image_id) == set(accounts)
    aws.faults.clear()
    aws.faults.inject(Fault(DESCRIBE, "throttle"), Fault("ListStackResources", "throttle"))
    started = time.monotonic()
    run = cli("report", "--all-stacks", "--json")
    elapsed = time.monotonic() - started
    assert (run.code, run.err) == (0, ""), run.out[-2000:]
    document = run.json()
    assert shape_problems(document) == []
    assert len(document["scope"]["stacks"]) == 1 + SHARES - BIG_STACK_SHARES
    assert document["counts"]["ok"] == SHARES
    assert {row["account_id"] for row in document["rows"]} == set(accounts)
    # 6 pages of 25, 2 pages for the big stack and one per small one, each with one retry.
    assert aws.faults.calls[DESCRIBE] == SHARES // 25 + 1
    assert aws.faults.calls["ListStackResources"] == 2 + 30 + 1
    assert elapsed < 10
