"""Bound how many shares CloudFormation runs at once, so WorkSpaces does not throttle a large
stack into failure: every share in a stack is put in one of ``MAX_CONCURRENT_SHARES`` lanes,
and each share depends on the one before it in its lane.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import jsii
from aws_cdk import CfnResource, IAspect, Stack
from constructs import IConstruct

from cdk_workspaces_image_sharing.core.tokens import short_hash

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
        self._alike: frozenset[str] = frozenset()
        self._alike_references: set[str] | None = None
        self._by_logical_id: dict[str, str] = {}
        self._resources: dict[str, CfnResource] = {}
        self._construct_edges: dict[str, set[str]] = {}
        self._edges: dict[str, set[str]] = {}
        # One pass over the tree, a few calls into the CDK per construct; the rest is Python.
        nested: list[str] = []
        declared: list[tuple[str, list[IConstruct]]] = []
        for construct in stack.node.find_all():
            node = construct.node
            path = node.path
            if isinstance(construct, Stack) and construct is not stack:
                nested.append(f"{path}/")
            elif isinstance(construct, CfnResource):
                self._resources[path] = construct
            dependencies = node.dependencies
            if dependencies:
                declared.append((path, dependencies))
        if nested:  # a nested stack's resources are its own template's
            prefixes = tuple(nested)
            self._resources = {
                path: resource
                for path, resource in self._resources.items()
                if not path.startswith(prefixes)
            }
        for path, resource in self._resources.items():
            self._by_logical_id[stack.get_logical_id(resource)] = path
        for source, dependencies in declared:
            targets = [t for d in dependencies for t in self._cfn_paths_under(d.node.path)]
            for resource_path in self._cfn_paths_under(source):
                self._construct_edges.setdefault(resource_path, set()).update(targets)

    def _cfn_paths_under(self, path: str) -> list[str]:
        """The stack's resources at ``path`` or below it."""
        below = f"{path}/"
        return [p for p in self._resources if p == path or p.startswith(below)]

    def resource_under(self, path: str) -> str:
        """The path of the one resource at or below ``path``."""
        (resource_path,) = self._cfn_paths_under(path)
        return resource_path

    def resource(self, path: str) -> CfnResource:
        """The resource at ``path``."""
        return self._resources[path]

    def add_edge(self, source: str, target: str) -> None:
        """Record a dependency (by paths) added after the graph was read."""
        self.dependencies(source).add(target)

    def dependencies(self, path: str) -> set[str]:
        """Paths of the resources that the resource at ``path`` waits for."""
        if path not in self._edges:
            resource = self._resources[path]
            edges = set(self._construct_edges.get(path, ()))
            for dependency in resource.obtain_dependencies():
                if dependency.node.path in self._resources:
                    edges.add(dependency.node.path)
            edges |= self._referenced(path, resource)
            edges.discard(path)
            self._edges[path] = edges
        return self._edges[path]

    def treat_alike(self, paths: Iterable[str]) -> None:
        """Resources whose properties refer to the same resources (shares of literal values:
        only their ServiceToken refers to anything): their references are read once."""
        self._alike = frozenset(paths)

    def _referenced(self, path: str, resource: CfnResource) -> set[str]:
        """Paths of the resources the properties of the resource at ``path`` refer to."""
        if path in self._alike and self._alike_references is not None:
            return set(self._alike_references)
        try:
            properties = self._stack.resolve(resource._cfn_properties)
        except Exception:  # a value that resolves only later in synthesis: no references
            properties = None
        referenced = {
            self._by_logical_id[logical_id]
            for logical_id in _references(properties)
            if logical_id in self._by_logical_id
        }
        if path in self._alike:
            self._alike_references = referenced
        return set(referenced)

    def waits_for(self, source: str, target: str) -> bool:
        """Whether the resource at ``source`` (transitively) waits for the one at ``target``."""
        seen: set[str] = set()
        pending = [source]
        while pending:
            path = pending.pop()
            if path == target:
                return True
            if path not in seen:
                seen.add(path)
                pending.extend(self.dependencies(path) - seen)
        return False


@jsii.implements(IAspect)
class ShareLanes:
    """Chains the registered shares of one stack into lanes when the stack is prepared; add it
    as an aspect of ``anchor``."""

    def __init__(
        self, stack: Stack, anchor: IConstruct, lanes: int = MAX_CONCURRENT_SHARES
    ) -> None:
        self._stack = stack
        self._anchor = anchor
        self._lanes = lanes
        self._shares: dict[str, str] = {}
        self._literal: set[str] = set()

    def register(self, key: str, share_path: str, literal: bool = False) -> None:
        """Add the share construct at ``share_path`` under its synth-stable ``key``; its
        CloudFormation resource is the one below its ``Resource`` child. ``literal``: its image
        and account are known at synth, so its properties refer to the function alone."""
        self._shares[key] = share_path
        if literal:
            self._literal.add(share_path)

    def visit(self, node: IConstruct) -> None:
        """Chain the shares, once: when the CDK visits ``anchor`` (a construct of the stack
        the aspect is added to) while preparing the stack."""
        if node is not self._anchor or len(self._shares) <= self._lanes:
            return  # no more shares than lanes: CloudFormation never runs more at once
        lanes: dict[int, list[str]] = {}
        for key in sorted(self._shares):
            lanes.setdefault(int(short_hash(key), 16) % self._lanes, []).append(key)
        if all(len(keys) == 1 for keys in lanes.values()):
            return  # no lane holds two shares: nothing to chain, no tree to read
        graph = DependencyGraph(self._stack)
        graph.treat_alike(graph.resource_under(f"{path}/Resource") for path in self._literal)
        for keys in lanes.values():
            before: str | None = None
            for key in keys:
                share = graph.resource_under(f"{self._shares[key]}/Resource")
                # A link share -> before closes a cycle when before already waits for share.
                if before is not None and not graph.waits_for(before, share):
                    graph.resource(share).node.add_dependency(graph.resource(before))
                    graph.add_edge(share, before)
                before = share
