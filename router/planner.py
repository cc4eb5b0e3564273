"""Query planner: from a normalized operation to a ``QueryPlan``.

In: the ``Supergraph`` and a normalized operation (``router.operation.NSelection``). Out: a
``QueryPlan`` whose fetches carry pre-printed subgraph operations.

Root fields are grouped by the subgraph that resolves them (queries in parallel, mutations one
fetch per root field in order). A field the current subgraph cannot resolve becomes an
``_entities`` fetch to a subgraph that can, through one of its resolvable ``@key``s; the key
fields (and ``@requires`` fields) are added, hidden, to the selection of the fetch that
reaches the object first. Abstract types are planned per runtime type; ``@interfaceObject``
fields travel with the interface as ``__typename``. Fetches depending on each other run in
sequence, the rest in parallel. Skip/include are already evaluated by the normalization.
Progressive ``@override`` labels are decided before planning: a plan is built for one set of
enabled labels, against ``Supergraph.with_override_labels`` (see ``router.gateway``).
"""

from __future__ import annotations

import itertools
from typing import Any, cast

from graphql import (
    ArgumentNode,
    FieldNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    print_ast,
    visit,
)
from graphql.language import Visitor

from router.errors import PlanningError
from router.fetch_groups import FetchGroup, SubSelection, build_plan
from router.operation import INTROSPECTION_FIELDS, NField, NSelection
from router.plan import QueryPlan
from router.supergraph import Supergraph, TypeInfo

MAX_JUMP_DEPTH = 8


class QueryPlanner:
    """Plans normalized operations against one supergraph."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.supergraph = supergraph

    def plan(
        self,
        root: NSelection,
        *,
        operation: OperationDefinitionNode,
        override_labels: frozenset[str] = frozenset(),
    ) -> QueryPlan:
        """The ``QueryPlan`` of ``operation`` normalized as ``root``.

        ``override_labels`` are the progressive ``@override`` labels enabled for this plan:
        their fields come from the overriding subgraph, every other labelled field from the
        original one.
        """
        supergraph = self.supergraph.with_override_labels(override_labels)
        return _PlanBuilder(supergraph, operation).build(root)


def _list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            depth += 1
        type_ = type_.of_type
    return depth


def _variables_in(arguments: tuple[ArgumentNode, ...]) -> set[str]:
    found: set[str] = set()

    class _Collector(Visitor):
        def enter_variable(self, node: VariableNode, *_: object) -> None:
            found.add(node.name.value)

    for argument in arguments:
        visit(argument, _Collector())
    return found


def _field_in(
    selection_set: SelectionSetNode | None, name: str, type_name: str
) -> FieldNode | None:
    """The field ``name`` in a ``FieldSet`` (looking into fragments on ``type_name``)."""
    if selection_set is None:
        return None
    for node in selection_set.selections:
        if isinstance(node, FieldNode) and node.name.value == name:
            return node
        if isinstance(node, InlineFragmentNode) and (
            node.type_condition is None or node.type_condition.name.value == type_name
        ):
            found = _field_in(node.selection_set, name, type_name)
            if found is not None:
                return found
    return None


class _PlanBuilder:
    """Builds the fetch groups of one operation, then assembles them into a plan."""

    def __init__(self, supergraph: Supergraph, operation: OperationDefinitionNode) -> None:
        self.supergraph = supergraph
        self.operation = operation
        self.kind = operation.operation.value
        self.ids = itertools.count()
        self.roots: list[FetchGroup] = []
        self.depth = 0

    def build(self, root: NSelection) -> QueryPlan:
        root_type, fields = next(iter(root.by_type.items()))
        by_service: dict[str, FetchGroup] = {}
        for nfield in fields:
            if nfield.name == "__typename" or nfield.name in INTROSPECTION_FIELDS:
                continue
            info = self.supergraph.types[root_type].fields[nfield.name]
            graphs = sorted(info.graphs)
            if not graphs:
                raise PlanningError(f"No subgraph resolves {root_type}.{nfield.name}")
            if len(graphs) > 1:
                if self.kind == "mutation":
                    open_roots = {self.roots[-1].service} if self.roots else set()
                else:
                    open_roots = set(by_service)
                graphs = self._cheapest_roots(root_type, nfield, graphs, open_roots)
            if self.kind == "mutation":
                # Consecutive fields of one subgraph share a fetch: it runs them in order.
                last = self.roots[-1] if self.roots else None
                if last is not None and last.service == graphs[0]:
                    group = last
                else:
                    group = self._new_group(graphs[0], (), is_entity=False)
                    self.roots.append(group)
            else:
                service = graphs[0]
                group = by_service.get(service) or self._new_group(service, (), is_entity=False)
                if service not in by_service:
                    by_service[service] = group
                    self.roots.append(group)
            self._add_local(group, group.selection, nfield, (), info.provides.get(group.service))
        return build_plan(self.roots, kind=self.kind, operation=self.operation)

    def _cheapest_roots(
        self, root_type: str, nfield: NField, graphs: list[str], open_roots: set[str]
    ) -> list[str]:
        """``graphs`` resolving a shareable root field, fewest fetches first.

        Each candidate plans the field alone; a subgraph already fetched at the root costs one
        fetch less. Ties keep an open root fetch, then the name order.
        """
        costs: dict[str, float] = {}
        for service in graphs:
            trial = _PlanBuilder(self.supergraph, self.operation)
            group = trial._new_group(service, (), is_entity=False)
            provides = self.supergraph.types[root_type].fields[nfield.name].provides.get(service)
            try:
                trial._add_local(group, group.selection, nfield, (), provides)
            except PlanningError:
                costs[service] = float("inf")
                continue
            costs[service] = _group_count(group) - (service in open_roots)
        return sorted(graphs, key=lambda g: (costs[g], g not in open_roots, g))

    def _new_group(
        self,
        service: str,
        path: tuple[str, ...],
        *,
        is_entity: bool,
        parent: FetchGroup | None = None,
    ) -> FetchGroup:
        group = FetchGroup(
            id=next(self.ids),
            service=service,
            kind="query" if is_entity else self.kind,
            merge_path=path,
            is_entity=is_entity,
            parent=parent,
        )
        if parent is not None:
            parent.children.append(group)
        return group

    def _child_group(
        self, parent: FetchGroup, service: str, path: tuple[str, ...], deps: set[FetchGroup]
    ) -> FetchGroup:
        for child in parent.children:
            if (
                child.service == service
                and child.merge_path == path
                and not any(dep.is_descendant_of(child) for dep in deps)
            ):
                return child
        return self._new_group(service, path, is_entity=True, parent=parent)

    def _plan_fields(
        self,
        group: FetchGroup,
        sub: SubSelection,
        type_name: str,
        fields: list[NField],
        path: tuple[str, ...],
        provided: SelectionSetNode | None,
    ) -> set[FetchGroup]:
        """Plan ``fields`` of objects of ``type_name`` reached by ``group``; the groups used."""
        used = {group}
        info = self.supergraph.types[type_name]
        remote: dict[str, int] | None = None
        for nfield in fields:
            if nfield.name == "__typename":
                sub.add("__typename")
                continue
            field_info = info.fields.get(nfield.name)
            if field_info is None:
                raise PlanningError(f"Unknown field {type_name}.{nfield.name}")
            provided_field = _field_in(provided, nfield.name, type_name) or self._key_field(
                info, group.service, nfield.name
            )
            local = group.service in field_info.graphs or provided_field is not None
            if local and group.service not in field_info.requires:
                nested = field_info.provides.get(group.service)
                if nested is None and provided_field is not None:
                    nested = provided_field.selection_set
                used |= self._add_local(group, sub, nfield, path, nested)
            else:
                taken = {f.response_key: _signature(f.name, f.arguments) for f in fields}
                if remote is None:
                    remote = self._remote_coverage(info, group.service, fields)
                used |= self._jump(group, sub, info, nfield, path, taken, remote)
        return used

    def _remote_coverage(
        self, info: TypeInfo, service: str, fields: list[NField]
    ) -> dict[str, int]:
        """Per subgraph, how many of ``fields`` that ``service`` cannot resolve it resolves."""
        coverage: dict[str, int] = {}
        for nfield in fields:
            field_info = info.fields.get(nfield.name)
            if field_info is None or service in field_info.graphs:
                continue
            for graph in field_info.graphs:
                coverage[graph] = coverage.get(graph, 0) + 1
        return coverage

    def _key_field(self, info: TypeInfo, service: str, name: str) -> FieldNode | None:
        for key in info.keys:
            if key.graph == service:
                found = _field_in(key.selection, name, info.name)
                if found is not None:
                    return found
        return None

    def _add_local(
        self,
        group: FetchGroup,
        sub: SubSelection,
        nfield: NField,
        path: tuple[str, ...],
        provided: SelectionSetNode | None,
    ) -> set[FetchGroup]:
        added = sub.add(
            nfield.name,
            alias=nfield.alias,
            arguments=nfield.arguments,
            composite=nfield.selection is not None,
        )
        if nfield.arguments:
            group.variables |= _variables_in(nfield.arguments)
        if nfield.selection is None or added.selection is None:
            return {group}
        child_path = path + (nfield.response_key,) + ("@",) * _list_depth(nfield.type)
        named = get_named_type(nfield.type).name
        info = self.supergraph.types[named]
        if info.kind == "object":
            own_fields = nfield.selection.by_type.get(named, [])
            return self._plan_fields(
                group, added.selection, named, own_fields, child_path, provided
            )
        if group.service in info.interface_object_graphs:
            return self._plan_interface_object(group, added.selection, info, nfield, child_path)
        # Abstract type: plan each runtime type this subgraph can return in its own fragment.
        added.selection.add("__typename")
        used = {group}
        returnable = self.supergraph.possible_types_in(named, group.service)
        for runtime, runtime_fields in nfield.selection.by_type.items():
            if runtime not in returnable or all(f.name == "__typename" for f in runtime_fields):
                continue
            fragment = added.selection.fragment(runtime)
            used |= self._plan_fields(
                group, fragment, runtime, runtime_fields, child_path, provided
            )
        return used

    def _jump(
        self,
        group: FetchGroup,
        sub: SubSelection,
        info: TypeInfo,
        nfield: NField,
        path: tuple[str, ...],
        taken: dict[str, str],
        remote: dict[str, int] | None = None,
    ) -> set[FetchGroup]:
        """Resolve ``nfield`` through an ``_entities`` fetch to another subgraph.

        ``taken`` maps the client's response keys at this level to field signatures (name and
        arguments): a key or required field whose name the client uses for another field, or
        for the same field with other arguments, is fetched under a ``_fed_<name>`` alias. ``remote`` counts, per subgraph, the sibling
        fields it could also resolve: among new fetches, the one serving most of them wins.
        """
        field_info = info.fields[nfield.name]
        reused = {c.service for c in group.children if c.merge_path == path}
        options = sorted(
            self._jump_options(info, nfield.name),
            key=lambda o: (o[0] not in reused, -(remote or {}).get(o[0], 0), o[0]),
        )
        choice = next(
            (o for o in options if self._reachable(group.service, info.name, o[2].selection)),
            options[0] if options else None,  # no key is local: fetch one through further jumps
        )
        if choice is None:
            raise PlanningError(
                f"Cannot reach {info.name}.{nfield.name} from subgraph {group.service}: "
                "no subgraph resolving it has a resolvable @key"
            )
        service, entity, key = choice
        requires = field_info.requires.get(service) if entity is info else None
        self.depth += 1
        if self.depth > MAX_JUMP_DEPTH:
            raise PlanningError(
                f"Cannot plan {info.name}.{nfield.name}: key fields are unreachable"
            )
        try:
            sub.add("__typename")
            aliases = _hidden_aliases(key.selection, taken)
            deps = self._plan_hidden(group, sub, info.name, key.selection, path, aliases)
            if requires is not None:
                aliases.update(_hidden_aliases(requires, taken))
                deps |= self._plan_hidden(group, sub, info.name, requires, path, aliases)
        finally:
            self.depth -= 1
        child = self._entity_child(group, service, path, deps, info.name, entity.name)
        representation = child.requires[info.name]
        representation.add_field_set(key.selection, aliases)
        if requires is not None:
            representation.add_field_set(requires, aliases)
        fragment = child.selection.fragment(entity.name)
        return {child} | self._add_local(child, fragment, nfield, path, None)

    def _jump_options(self, info: TypeInfo, field_name: str) -> list[tuple[str, TypeInfo, Any]]:
        """(subgraph, entity type, key) through which ``info.field_name`` can be fetched.

        The entity type is ``info`` itself, or one of its interfaces when the field comes
        from a subgraph that declares that interface as an ``@interfaceObject``.
        """
        graphs = info.fields[field_name].graphs
        if graphs:
            return [(s, info, k) for s in graphs for k in info.resolvable_keys(s)]
        options: list[tuple[str, TypeInfo, Any]] = []
        schema_type = self.supergraph.api_schema.get_type(info.name)
        for interface in getattr(schema_type, "interfaces", ()):
            interface_info = self.supergraph.types[interface.name]
            interface_field = interface_info.fields.get(field_name)
            if interface_field is None:
                continue
            for service in interface_field.graphs & interface_info.interface_object_graphs:
                options.extend(
                    (service, interface_info, k) for k in interface_info.resolvable_keys(service)
                )
        return options

    def _entity_child(
        self,
        parent: FetchGroup,
        service: str,
        path: tuple[str, ...],
        deps: set[FetchGroup],
        type_condition: str,
        entity_type: str,
    ) -> FetchGroup:
        """The ``_entities`` group for objects of ``type_condition`` at ``path``."""
        child = self._child_group(parent, service, path, deps)
        child.depends_on |= deps - {parent}
        child.requires.setdefault(type_condition, SubSelection()).add("__typename")
        if entity_type != type_condition:
            child.entity_types[type_condition] = entity_type
        return child

    def _plan_interface_object(
        self,
        group: FetchGroup,
        sub: SubSelection,
        interface: TypeInfo,
        nfield: NField,
        path: tuple[str, ...],
    ) -> set[FetchGroup]:
        """Plan a selection on an interface that ``group``'s subgraph sees as an ``@interfaceObject``.

        That subgraph answers with ``__typename`` set to the interface: the interface fields
        it resolves are selected there; anything else (including the real ``__typename``) is
        fetched from a subgraph owning the interface, through the interface's ``@key``.
        """
        assert nfield.selection is not None
        sub.add("__typename")
        local: dict[str, NField] = {}
        remaining: dict[str, list[NField]] = {}
        for runtime, fields in nfield.selection.by_type.items():
            rest = remaining.setdefault(runtime, [])
            for field_ in fields:
                interface_field = interface.fields.get(field_.name)
                # Fields of the interface object itself: here, or from another subgraph seeing
                # the interface as an @interfaceObject through a key known here (no runtime
                # type needed; its fetch collects the objects before the runtime types merge).
                resolvable = interface_field is not None and (
                    group.service in interface_field.graphs
                    or self._key_field(interface, group.service, field_.name) is not None
                    or self._interface_object_reachable(group.service, interface, field_.name)
                )
                first = local.setdefault(field_.response_key, field_) if resolvable else None
                if first is None or first.selection != field_.selection:
                    rest.append(field_)
        used = {group}
        if local:
            used |= self._plan_fields(group, sub, interface.name, list(local.values()), path, None)
        if not any(remaining.values()):
            return used
        owners = [
            (s, k)
            for s in sorted(interface.graphs - interface.interface_object_graphs)
            for k in interface.resolvable_keys(s)
        ]
        choice = next(
            (o for o in owners if self._reachable(group.service, interface.name, o[1].selection)),
            None,
        )
        if choice is None:
            raise PlanningError(
                f"Cannot resolve the runtime types of {interface.name} from {group.service}: "
                "no subgraph owning the interface has a reachable resolvable @key"
            )
        service, key = choice
        deps = self._plan_hidden(group, sub, interface.name, key.selection, path, {})
        child = self._entity_child(group, service, path, deps, interface.name, interface.name)
        child.requires[interface.name].add_field_set(key.selection)
        fragment = child.selection.fragment(interface.name)
        fragment.add("__typename")
        returnable = self.supergraph.possible_types_in(interface.name, service)
        for runtime, rest in remaining.items():
            if rest and runtime in returnable:
                used |= self._plan_fields(
                    child, fragment.fragment(runtime), runtime, rest, path, None
                )
        return used | {child}

    def _interface_object_reachable(self, service: str, interface: TypeInfo, name: str) -> bool:
        """Whether another ``@interfaceObject`` subgraph resolves ``name`` through a local key."""
        graphs = interface.fields[name].graphs & interface.interface_object_graphs
        return any(
            self._reachable(service, interface.name, key.selection)
            for graph in sorted(graphs)
            for key in interface.resolvable_keys(graph)
        )

    def _plan_hidden(
        self,
        group: FetchGroup,
        sub: SubSelection,
        type_name: str,
        selection_set: SelectionSetNode,
        path: tuple[str, ...],
        aliases: dict[str, str],
    ) -> set[FetchGroup]:
        """Plan key or required fields the client did not ask for."""
        fields = self._field_set_fields(type_name, selection_set, aliases)
        return self._plan_fields(group, sub, type_name, fields, path, None)

    def _field_set_fields(
        self, type_name: str, selection_set: SelectionSetNode, aliases: dict[str, str] | None = None
    ) -> list[NField]:
        schema_type = self.supergraph.schema_for_planning.get_type(type_name)
        if not isinstance(schema_type, GraphQLObjectType | GraphQLInterfaceType):
            raise PlanningError(f"Type {type_name} has no fields in the API schema")
        fields: list[NField] = []
        for node in selection_set.selections:
            if not isinstance(node, FieldNode):
                continue
            name = node.name.value
            if name == "__typename":
                continue
            definition = schema_type.fields.get(name)
            if definition is None:
                raise PlanningError(f"Key or required field {type_name}.{name} is not accessible")
            alias = aliases.get(name) if aliases else None
            nfield = NField(
                response_key=alias or name,
                name=name,
                alias=alias,
                arguments=tuple(node.arguments or ()),
                type=definition.type,
                parent_type=type_name,
            )
            if node.selection_set is not None:
                named = get_named_type(definition.type).name
                nfield.selection = NSelection(
                    by_type={named: self._field_set_fields(named, node.selection_set)}
                )
            fields.append(nfield)
        return fields

    def _reachable(self, service: str, type_name: str, selection_set: SelectionSetNode) -> bool:
        """Whether ``service`` resolves every field of a key on ``type_name`` by itself."""
        info = self.supergraph.types[type_name]
        for node in selection_set.selections:
            if not isinstance(node, FieldNode) or node.name.value == "__typename":
                continue
            field_info = info.fields.get(node.name.value)
            if field_info is None:
                return False
            local = service in field_info.graphs or self._key_field(info, service, node.name.value)
            if not local or service in field_info.requires:
                return False
            if node.selection_set is not None:
                schema_type = cast(
                    GraphQLObjectType, self.supergraph.schema_for_planning.get_type(type_name)
                )
                named = get_named_type(schema_type.fields[node.name.value].type).name
                if not self._reachable(service, named, node.selection_set):
                    return False
        return True


def _group_count(group: FetchGroup) -> int:
    return 1 + sum(_group_count(child) for child in group.children)


def _signature(name: str, arguments: tuple[ArgumentNode, ...]) -> str:
    """A field's name with its printed arguments: equal signatures select equal values."""
    if not arguments:
        return name
    return name + "(" + ",".join(print_ast(a) for a in arguments) + ")"


def _hidden_aliases(selection_set: SelectionSetNode, taken: dict[str, str]) -> dict[str, str]:
    """Aliases for top-level field-set fields whose name the client uses for another value."""
    aliases: dict[str, str] = {}
    for node in selection_set.selections:
        if not isinstance(node, FieldNode):
            continue
        name = node.name.value
        signature = _signature(name, tuple(node.arguments or ()))
        if taken.get(name, signature) != signature:
            aliases[name] = f"_fed_{name}"
    return aliases
