"""Bound how many shares CloudFormation runs at once, so WorkSpaces does not throttle a large
stack into failure: every share in a stack is put in one of ``MAX_CONCURRENT_SHARES`` lanes,
and each share depends on the one before it in its lane.

A share's lane comes from a hash of what it shares (not its position), and shares are ordered
in a lane by the same key: reordering declarations changes nothing, and removing a share only
changes the DependsOn of the one after it (which CloudFormation applies without an Update).

Lanes never override the user's own ordering: a lane link that would close a dependency cycle
(through DependsOn, ``node.add_dependency``, Ref, Fn::GetAtt or Fn::Sub, via any resource of
the stack) is left out, and that share starts a new stretch of its lane.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import jsii
from aws_cdk import CfnResource, IAspect, Stack
from constructs import IConstruct

from cdk_workspaces_image_sharing.tokens import short_hash

MAX_CONCURRENT_SHARES = 10
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)[.}]")


def _references(value: object) -> Iterator[str]:
    """Logical IDs that a resolved CloudFormation value refers to."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and isinstance(get_att[0], str):
            yield get_att[0]
        sub = value.get("Fn::Sub")
        if isinstance(sub, str):
            yield from _SUB_REFERENCE.findall(sub)
        elif isinstance(sub, list) and sub and isinstance(sub[0], str):
            yield from _SUB_REFERENCE.findall(sub[0])
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


class DependencyGraph:
    """What each CloudFormation resource of one stack waits for, read from the construct tree
    when the stack is prepared; edges are worked out on demand and kept."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._by_logical_id: dict[str, str] = {}
        self._resources: dict[str, CfnResource] = {}
        self._construct_edges: dict[str, set[str]] = {}
        self._edges: dict[str, set[str]] = {}
        own_path = stack.node.path
        for construct in stack.node.find_all():
            if isinstance(construct, CfnResource) and Stack.of(construct).node.path == own_path:
                path = construct.node.path
                self._resources[path] = construct
                self._by_logical_id[str(stack.resolve(construct.logical_id))] = path
        for construct in stack.node.find_all():
            for dependency in construct.node.dependencies:
                targets = self._cfn_paths_under(dependency)
                for source in self._cfn_paths_under(construct):
                    self._construct_edges.setdefault(source, set()).update(targets)

    def _cfn_paths_under(self, construct: IConstruct) -> list[str]:
        return [c.node.path for c in construct.node.find_all() if c.node.path in self._resources]

    def add_edge(self, source: CfnResource, target: CfnResource) -> None:
        """Record a dependency added after the graph was read."""
        self.dependencies(source.node.path).add(target.node.path)

    def dependencies(self, path: str) -> set[str]:
        """Paths of the resources that the resource at ``path`` waits for."""
        if path not in self._edges:
            resource = self._resources[path]
            edges = set(self._construct_edges.get(path, ()))
            for dependency in resource.obtain_dependencies():
                if dependency.node.path in self._resources:
                    edges.add(dependency.node.path)
            try:
                properties = self._stack.resolve(resource._cfn_properties)
            except Exception:  # a value that resolves only later in synthesis: no references
                properties = None
            for logical_id in _references(properties):
                if logical_id in self._by_logical_id:
                    edges.add(self._by_logical_id[logical_id])
            edges.discard(path)
            self._edges[path] = edges
        return self._edges[path]

    def waits_for(self, source: CfnResource, target: CfnResource) -> bool:
        """Whether ``source`` (transitively) waits for ``target``."""
        goal = target.node.path
        seen: set[str] = set()
        pending = [source.node.path]
        while pending:
            path = pending.pop()
            if path == goal:
                return True
            if path not in seen:
                seen.add(path)
                pending.extend(self.dependencies(path) - seen)
        return False


@jsii.implements(IAspect)
class ShareLanes:
    """Chains the registered shares of one stack into lanes when the stack is prepared."""

    def __init__(self, stack: Stack, lanes: int = MAX_CONCURRENT_SHARES) -> None:
        self._stack = stack
        self._lanes = lanes
        self._shares: dict[str, IConstruct] = {}

    def register(self, key: str, share: IConstruct) -> None:
        """Add a share under its synth-stable ``key``; its CloudFormation resource is the
        default child of its ``Resource`` child."""
        self._shares[key] = share

    def visit(self, node: IConstruct) -> None:
        if node.node.path != self._stack.node.path or not self._shares:
            return
        graph = DependencyGraph(self._stack)
        last_in_lane: dict[int, CfnResource] = {}
        for key in sorted(self._shares):
            share = self._shares[key].node.find_child("Resource").node.default_child
            assert isinstance(share, CfnResource)
            lane = int(short_hash(key), 16) % self._lanes
            before = last_in_lane.get(lane)
            # A link share -> before closes a cycle when before already waits for share.
            if before is not None and not graph.waits_for(before, share):
                share.node.add_dependency(before)
                graph.add_edge(share, before)
            last_in_lane[lane] = share
