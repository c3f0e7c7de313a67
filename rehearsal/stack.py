"""A small stand-in for CloudFormation's stack engine, for Custom::WorkspaceImagePermission.

It sends the events CloudFormation sends, in the order it sends them: creates and updates in
dependency order (several at once), then the cleanup phase (Deletes of replaced physical IDs
and removed resources); on failure the rollback (Updates back to the old properties, then
Deletes of what the failed deployment made). DeletionPolicy Retain skips a Delete, as does
UpdateReplacePolicy Retain for the cleanup Delete of a replaced physical ID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rehearsal.assembly import ShareResource
from rehearsal.cloudformation import CloudFormation, Response

Invoker = Callable[[ShareResource, dict[str, Any]], Response]


@dataclass(frozen=True)
class Deployed:
    resource: ShareResource
    physical_id: str


@dataclass
class Step:
    """One event sent and the answer it got."""

    request_type: str
    logical_id: str
    physical_id_sent: str | None
    response: Response

    def describe(self) -> str:
        answer = self.response
        text = f"{self.request_type} {self.logical_id} -> {answer.status} {answer.physical_id}"
        return f"{text} ({answer.reason})" if answer.reason else text


@dataclass
class Stack:
    """Deploy templates in turn with ``deploy``; remove everything with ``delete``."""

    cloudformation: CloudFormation
    invoke: Invoker
    max_parallel: int = 8
    deployed: dict[str, Deployed] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    peak_concurrency: int = 0
    """The most creates or updates that were ready to run at once (what CloudFormation would
    run in parallel; DependsOn bounds it)."""

    def _send(
        self,
        request_type: str,
        resource: ShareResource,
        *,
        physical_id: str | None = None,
        old: ShareResource | None = None,
    ) -> Response:
        event = self.cloudformation.event(
            request_type,
            resource.logical_id,
            resource.properties,
            physical_id=physical_id,
            old_properties=old.properties if old else None,
        )
        response = self.invoke(resource, event)
        self.steps.append(Step(request_type, resource.logical_id, physical_id, response))
        return response

    def _in_order(
        self, resources: Iterable[ShareResource], run: Callable[[ShareResource], Response]
    ) -> dict[str, Response]:
        """Run ``run`` on each resource once its DependsOn ones are done, several at once."""
        pending = {r.logical_id: r for r in resources}
        done: dict[str, Response] = {}
        with ThreadPoolExecutor(self.max_parallel) as pool:
            while pending:
                ready = [r for r in pending.values() if not set(r.depends_on) & set(pending)]
                if not ready:
                    raise ValueError(f"circular DependsOn among {sorted(pending)}")
                self.peak_concurrency = max(self.peak_concurrency, len(ready))
                for resource, response in zip(ready, pool.map(run, ready), strict=True):
                    done[resource.logical_id] = response
                    del pending[resource.logical_id]
        return done

    def deploy(
        self, shares: dict[str, ShareResource], *, another_resource_fails: bool = False
    ) -> bool:
        """Create or update to ``shares``; True when the stack reached the new state.

        ``another_resource_fails`` plays a resource outside this engine failing after the
        shares were applied, so the whole deployment rolls back.
        """
        old = dict(self.deployed)
        changed = [
            s
            for lid, s in shares.items()
            if lid not in old or s.properties != old[lid].resource.properties
        ]

        def apply(share: ShareResource) -> Response:
            before = old.get(share.logical_id)
            if before is None:
                return self._send("Create", share)
            return self._send("Update", share, physical_id=before.physical_id, old=before.resource)

        responses = self._in_order(changed, apply)
        if another_resource_fails or any(r.status != "SUCCESS" for r in responses.values()):
            self._roll_back(old, shares, responses)
            return False
        for share in changed:
            self.deployed[share.logical_id] = Deployed(
                share, responses[share.logical_id].physical_id
            )
        # Cleanup phase: the replaced physical IDs, then what the new template no longer has.
        cleanup = [
            before
            for lid, before in old.items()
            if lid in shares
            and self.deployed[lid].physical_id != before.physical_id
            and not before.resource.retain
        ]
        removed = [before for lid, before in old.items() if lid not in shares]
        for gone in removed:
            del self.deployed[gone.resource.logical_id]
        self._delete_all([*cleanup, *(r for r in removed if not r.resource.retain)])
        return True

    def _roll_back(
        self,
        old: dict[str, Deployed],
        shares: dict[str, ShareResource],
        responses: dict[str, Response],
    ) -> None:
        made: list[Deployed] = []
        for lid, response in responses.items():
            before = old.get(lid)
            if before is None:
                made.append(Deployed(shares[lid], response.physical_id))
            elif response.status == "SUCCESS":
                self._send(
                    "Update", before.resource, physical_id=response.physical_id, old=shares[lid]
                )
                if response.physical_id != before.physical_id:
                    made.append(Deployed(shares[lid], response.physical_id))
        self._delete_all(made)

    def _delete_all(self, targets: list[Deployed]) -> None:
        def delete(target: Deployed) -> Response:
            return self._send("Delete", target.resource, physical_id=target.physical_id)

        with ThreadPoolExecutor(self.max_parallel) as pool:
            list(pool.map(delete, targets))

    def delete(self) -> bool:
        """Delete the stack; resources with DeletionPolicy Retain get no event."""
        targets = [d for d in self.deployed.values() if not d.resource.retain]
        before = len(self.steps)
        self._delete_all(targets)
        self.deployed.clear()
        return all(step.response.status == "SUCCESS" for step in self.steps[before:])
