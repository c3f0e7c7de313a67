"""``repair``: plan the changes that bring WorkSpaces back to what the stacks declare, and make
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cdk_workspaces_image_sharing.drift.aws import ACCESS_DENIED_CODES, REFUSED_CREDENTIALS_CODES
from cdk_workspaces_image_sharing.drift.progress import ProgressCallback
from cdk_workspaces_image_sharing.drift.report import Report, Row, State
from cdk_workspaces_image_sharing.runtime.sharing_functions.aws_plumbing import (
    THROTTLING_CODES,
    WorkSpacesClient,
    error_code,
)


class Verb(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


class Result(StrEnum):
    """What became of an action."""

    PLANNED = "planned"  # --dry-run
    NOT_CONFIRMED = "not-confirmed"  # a revoke without --yes or an interactive yes
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Action:
    """One change to one pair."""

    verb: Verb
    image_id: str
    account_id: str
    why: str

    def describe(self) -> str:
        return f"{self.verb:<6}  {self.image_id}  {self.account_id}  ({self.why})"


@dataclass(frozen=True)
class Plan:
    """The grants and revokes to make; ``notes`` say what is missing and cannot be granted."""

    grants: tuple[Action, ...]
    revokes: tuple[Action, ...]
    notes: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*self.grants, *self.revokes)


@dataclass(frozen=True)
class Outcome:
    action: Action
    result: Result
    error: str | None = None


def _declared_by(row: Row) -> str:
    return "declared by " + ", ".join(f"{r.stack}/{r.logical_id}" for r in row.managed_by)


def make_plan(report: Report, *, revoke_unmanaged: bool = False) -> Plan:
    """Grant every ``missing`` pair whose image exists; with ``revoke_unmanaged`` (which needs a
    report of every stack), revoke every ``unmanaged`` one. Raises ValueError for
    ``revoke_unmanaged`` on a narrower report."""
    if revoke_unmanaged and not report.all_stacks:
        raise ValueError("revoking unmanaged shares needs a report of every stack (--all-stacks)")
    grants: list[Action] = []
    notes: list[str] = []
    for row in report.rows_in(State.MISSING):
        assert row.image_id is not None and row.account_id is not None
        if row.image_id in report.images_not_found:
            notes.append(
                f"cannot grant {row.physical_id}: image {row.image_id} does not exist in "
                f"{report.region or 'this Region'}"
            )
            continue
        grants.append(Action(Verb.GRANT, row.image_id, row.account_id, _declared_by(row)))
    revokes = [
        Action(Verb.REVOKE, row.image_id, row.account_id, "unmanaged")
        for row in report.rows_in(State.UNMANAGED)
        if revoke_unmanaged and row.image_id is not None and row.account_id is not None
    ]
    return Plan(tuple(grants), tuple(revokes), tuple(notes))


def apply(
    workspaces: WorkSpacesClient,
    actions: Iterable[Action],
    progress: ProgressCallback = lambda _: None,
) -> list[Outcome]:
    """Make each change. A refusal of one pair (e.g. an image that cannot be shared with that
    account) is that action's FAILED outcome; access denied, refused credentials and throttling
    past the retries end the repair (botocore's ClientError is raised)."""
    from botocore.exceptions import ClientError

    outcomes = []
    actions = list(actions)
    for number, action in enumerate(actions, 1):
        progress(f"{action.verb} {number}/{len(actions)}: {action.image_id} {action.account_id}")
        try:
            workspaces.update_workspace_image_permission(
                ImageId=action.image_id,
                AllowCopyImage=action.verb is Verb.GRANT,
                SharedAccountId=action.account_id,
            )
        except ClientError as error:
            code = error_code(error)
            if code in THROTTLING_CODES | ACCESS_DENIED_CODES | REFUSED_CREDENTIALS_CODES:
                raise
            message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
            outcomes.append(Outcome(action, Result.FAILED, f"{code}: {message}"))
            continue
        outcomes.append(Outcome(action, Result.DONE))
    return outcomes


def left_to_fix(report: Report, *, revoke_unmanaged: bool = False) -> list[Row]:
    """The rows ``repair`` was asked to fix that are still not fixed."""
    states = (State.MISSING, State.UNMANAGED) if revoke_unmanaged else (State.MISSING,)
    return report.rows_in(*states)
