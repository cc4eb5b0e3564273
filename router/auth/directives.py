"""Federation authorization directives: ``@authenticated``, ``@requiresScopes``, ``@policy``.

In: the supergraph document (where composition carried the directives, ``@link``ed to
``https://specs.apollo.dev/{authenticated,requiresScopes,policy}/v0.1``), a validated
``PreparedOperation`` and the caller's claims. Out: an ``AuthorizedOperation``: the operation
without the fields (and fragments on types) the caller may not see, one error per removed
selection — ``{"message": "Unauthorized field or type", "path": [...], "extensions":
{"code": "UNAUTHORIZED_FIELD_OR_TYPE"}}`` as Apollo Router reports them, ``"@"`` standing for
list positions — and the outcome (one bool per requirement the operation meets) that keys
the plan cache. The rest of the operation is planned and executed as usual.

Rules (as Apollo Router applies them): a field is unauthorized when the field, or the type
it returns, carries a directive the caller fails; on an interface, when any implementation's
field does too. An inline fragment or fragment spread on a type the caller fails is removed.
``@authenticated`` needs claims; ``@requiresScopes(scopes: [[a, b], [c]])`` needs a and b,
or c, among the token's scopes (``scope``, space separated, or a ``scopes`` list);
``@policy(policies: ...)`` the same over the policies the hook grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    NamedTypeNode,
    NameNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    get_named_type,
    value_from_ast_untyped,
)

from router.auth.policies import PolicyHook, granted_policies, role_policies
from router.operation import LRUCache, PreparedOperation

UNAUTHORIZED_FIELD_OR_TYPE = "UNAUTHORIZED_FIELD_OR_TYPE"
UNAUTHORIZED_MESSAGE = "Unauthorized field or type"
AUTHENTICATED, REQUIRES_SCOPES, POLICY = "authenticated", "requiresScopes", "policy"
_SPEC_URLS = {
    "https://specs.apollo.dev/authenticated/": AUTHENTICATED,
    "https://specs.apollo.dev/requiresScopes/": REQUIRES_SCOPES,
    "https://specs.apollo.dev/policy/": POLICY,
}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One directive application: its kind and, for scopes and policies, the alternatives."""

    kind: str
    alternatives: tuple[frozenset[str], ...] = ()
    """Disjunctive normal form: satisfied when every name of one alternative is held."""


@dataclass(slots=True)
class AuthorizationRules:
    """Which types and fields of the supergraph carry requirements."""

    types: dict[str, tuple[Requirement, ...]] = field(default_factory=dict)
    fields: dict[tuple[str, str], tuple[Requirement, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.types or self.fields)

    @classmethod
    def from_supergraph(cls, document: DocumentNode) -> AuthorizationRules:
        """Read the directive applications of a supergraph document."""
        names = _local_names(document)
        rules = cls()
        if not names:
            return rules
        for definition in document.definitions:
            if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
                continue
            type_name = definition.name.value
            own = _requirements(definition, names)
            if own:
                rules.types[type_name] = rules.types.get(type_name, ()) + own
            for field_node in getattr(definition, "fields", None) or ():
                if isinstance(
                    definition,
                    ObjectTypeDefinitionNode
                    | ObjectTypeExtensionNode
                    | InterfaceTypeDefinitionNode
                    | InterfaceTypeExtensionNode,
                ):
                    found = _requirements(field_node, names)
                    if found:
                        rules.fields[(type_name, field_node.name.value)] = found
        return rules


def _local_names(document: DocumentNode) -> dict[str, str]:
    """Local directive name -> canonical name, from the schema's ``@link``s."""
    names: dict[str, str] = {}
    for definition in document.definitions:
        for directive in getattr(definition, "directives", None) or ():
            if directive.name.value != "link" or not hasattr(definition, "operation_types"):
                continue
            args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments}
            url = str(args.get("url") or "")
            for prefix, canonical in _SPEC_URLS.items():
                if url.startswith(prefix):
                    names[str(args.get("as") or canonical)] = canonical
                    for imported in args.get("import") or ():
                        if isinstance(imported, dict) and imported.get("name") == f"@{canonical}":
                            names[str(imported.get("as", "@" + canonical)).lstrip("@")] = canonical
    return names


def _requirements(node: Any, names: dict[str, str]) -> tuple[Requirement, ...]:
    found: list[Requirement] = []
    for directive in getattr(node, "directives", None) or ():
        canonical = names.get(directive.name.value)
        if canonical is None:
            continue
        if canonical == AUTHENTICATED:
            found.append(Requirement(AUTHENTICATED))
            continue
        args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments}
        raw = args.get("scopes" if canonical == REQUIRES_SCOPES else "policies") or []
        alternatives = tuple(frozenset(str(n) for n in group) for group in raw)
        found.append(Requirement(canonical, alternatives))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class AuthorizedOperation:
    """The operation the caller may run, the errors for what was removed, the outcome key."""

    prepared: PreparedOperation
    errors: tuple[dict[str, Any], ...] = ()
    outcome: tuple[bool, ...] = ()
    """One bool per requirement the operation meets (part of the plan cache key)."""
    empty: bool = False
    """Nothing is left to execute: every root field was removed."""


def caller_scopes(claims: Mapping[str, Any] | None) -> frozenset[str]:
    """The scopes of the claims: OAuth's space-separated ``scope`` or a ``scopes`` list."""
    if claims is None:
        return frozenset()
    scopes: set[str] = set()
    if isinstance(claims.get("scope"), str):
        scopes.update(claims["scope"].split())
    if isinstance(claims.get("scopes"), list):
        scopes.update(str(s) for s in claims["scopes"])
    return frozenset(scopes)


class Authorizer:
    """Applies the supergraph's authorization directives to operations."""

    def __init__(
        self,
        *,
        schema: GraphQLSchema,
        rules: AuthorizationRules,
        policy_hook: PolicyHook = role_policies,
        cache_size: int = 512,
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.policy_hook = policy_hook
        self._needs: LRUCache[Any, tuple[Requirement, ...]] = LRUCache(cache_size)
        self._filtered: LRUCache[Any, AuthorizedOperation] = LRUCache(cache_size)

    async def authorize(
        self, key: Any, prepared: PreparedOperation, claims: Mapping[str, Any] | None
    ) -> AuthorizedOperation:
        """The authorized form of ``prepared`` (cached per ``key`` and outcome)."""
        if not self.rules:
            return AuthorizedOperation(prepared)
        needs = self._needs.get(key)
        if needs is None:
            needs = self.requirements_of(prepared)
            self._needs.put(key, needs)
        if not needs:
            return AuthorizedOperation(prepared)
        outcome = await self._evaluate(needs, claims)
        if all(outcome):
            return AuthorizedOperation(prepared, outcome=outcome)
        cache_key = (key, outcome)
        authorized = self._filtered.get(cache_key)
        if authorized is None:
            denied = frozenset(r for r, ok in zip(needs, outcome, strict=True) if not ok)
            authorized = _Filter(self, prepared, denied).run(outcome)
            self._filtered.put(cache_key, authorized)
        return authorized

    async def _evaluate(
        self, needs: tuple[Requirement, ...], claims: Mapping[str, Any] | None
    ) -> tuple[bool, ...]:
        scopes = caller_scopes(claims)
        wanted = frozenset(
            name for r in needs if r.kind == POLICY for group in r.alternatives for name in group
        )
        policies = await granted_policies(self.policy_hook, wanted, claims)
        result = []
        for requirement in needs:
            if requirement.kind == AUTHENTICATED:
                result.append(claims is not None)
            elif requirement.kind == REQUIRES_SCOPES:
                held = scopes if claims is not None else frozenset()
                result.append(any(group <= held for group in requirement.alternatives))
            else:
                result.append(any(group <= policies for group in requirement.alternatives))
        return tuple(result)

    def field_requirements(self, parent: Any, name: str) -> tuple[Requirement, ...]:
        """What selecting ``parent.name`` requires (field, returned type, implementations)."""
        found = list(self.rules.fields.get((parent.name, name), ()))
        found += self.rules.types.get(get_named_type(parent.fields[name].type).name, ())
        if isinstance(parent, GraphQLInterfaceType):
            for implementation in self.schema.get_possible_types(parent):
                found += self.rules.fields.get((implementation.name, name), ())
        return tuple(dict.fromkeys(found))

    def requirements_of(self, prepared: PreparedOperation) -> tuple[Requirement, ...]:
        """Every requirement the operation's selections meet, in a stable order."""
        found: dict[Requirement, None] = {}
        root = self.schema.get_root_type(prepared.operation.operation)

        def visit(selection_set: SelectionSetNode, parent: Any, seen: frozenset[str]) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if name.startswith("__") or not hasattr(parent, "fields"):
                        continue
                    found.update(dict.fromkeys(self.field_requirements(parent, name)))
                    if selection.selection_set is not None:
                        named = get_named_type(parent.fields[name].type)
                        visit(selection.selection_set, named, seen)
                elif isinstance(selection, InlineFragmentNode):
                    condition = _condition(self.schema, selection.type_condition, parent)
                    found.update(dict.fromkeys(self.rules.types.get(condition.name, ())))
                    visit(selection.selection_set, condition, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = prepared.fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    condition = _condition(self.schema, fragment.type_condition, parent)
                    found.update(dict.fromkeys(self.rules.types.get(condition.name, ())))
                    visit(fragment.selection_set, condition, seen | {name})

        visit(prepared.operation.selection_set, root, frozenset())
        return tuple(found)


def _condition(schema: GraphQLSchema, node: NamedTypeNode | None, parent: Any) -> Any:
    return parent if node is None else schema.get_type(node.name.value)


def _list_depth(type_: Any) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        depth += isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return depth


class _Filter:
    """Rewrites one operation without what ``denied`` forbids (fragment spreads inlined)."""

    def __init__(
        self, authorizer: Authorizer, prepared: PreparedOperation, denied: frozenset[Requirement]
    ) -> None:
        self.authorizer = authorizer
        self.schema = authorizer.schema
        self.prepared = prepared
        self.denied = denied
        self.errors: list[dict[str, Any]] = []

    def run(self, outcome: tuple[bool, ...]) -> AuthorizedOperation:
        operation = self.prepared.operation
        root = self.schema.get_root_type(operation.operation)
        kept = self.selection_set(operation.selection_set, root, [], frozenset())
        new_operation = OperationDefinitionNode(
            operation=operation.operation,
            name=operation.name,
            variable_definitions=operation.variable_definitions,
            directives=operation.directives,
            selection_set=kept or SelectionSetNode(selections=()),
            loc=operation.loc,
        )
        # replace() keeps whatever else the stages before computed (conditions, analysis).
        prepared = replace(
            self.prepared,
            document=DocumentNode(definitions=(new_operation,)),
            operation=new_operation,
            fragments={},
        )
        return AuthorizedOperation(
            prepared, errors=tuple(self.errors), outcome=outcome, empty=kept is None
        )

    def allowed(self, requirements: tuple[Requirement, ...]) -> bool:
        return not any(r in self.denied for r in requirements)

    def refuse(self, path: list[str | int]) -> None:
        self.errors.append(
            {
                "message": UNAUTHORIZED_MESSAGE,
                "path": list(path),
                "extensions": {"code": UNAUTHORIZED_FIELD_OR_TYPE},
            }
        )

    def selection_set(
        self, node: SelectionSetNode, parent: Any, path: list[str | int], seen: frozenset[str]
    ) -> SelectionSetNode | None:
        kept: list[Any] = []
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                kept_field = self.field(selection, parent, path, seen)
                if kept_field is not None:
                    kept.append(kept_field)
            elif isinstance(selection, InlineFragmentNode):
                condition = _condition(self.schema, selection.type_condition, parent)
                inner = self.fragment(condition, selection.selection_set, path, seen)
                if inner is not None:
                    kept.append(
                        InlineFragmentNode(
                            type_condition=selection.type_condition,
                            directives=selection.directives,
                            selection_set=inner,
                        )
                    )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment: FragmentDefinitionNode | None = self.prepared.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                condition = _condition(self.schema, fragment.type_condition, parent)
                inner = self.fragment(condition, fragment.selection_set, path, seen | {name})
                if inner is not None:
                    kept.append(
                        InlineFragmentNode(
                            type_condition=NamedTypeNode(
                                name=NameNode(value=fragment.type_condition.name.value)
                            ),
                            directives=selection.directives,
                            selection_set=inner,
                        )
                    )
        return SelectionSetNode(selections=tuple(kept)) if kept else None

    def fragment(
        self,
        condition: Any,
        selection_set: SelectionSetNode,
        path: list[str | int],
        seen: frozenset[str],
    ) -> SelectionSetNode | None:
        if not self.allowed(self.authorizer.rules.types.get(condition.name, ())):
            self.refuse(path)
            return None
        return self.selection_set(selection_set, condition, path, seen)

    def field(
        self, node: FieldNode, parent: Any, path: list[str | int], seen: frozenset[str]
    ) -> FieldNode | None:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return node
        key = node.alias.value if node.alias else name
        if not self.allowed(self.authorizer.field_requirements(parent, name)):
            self.refuse([*path, key])
            return None
        if node.selection_set is None:
            return node
        field_type = parent.fields[name].type
        inner_path: list[str | int] = [*path, key, *(["@"] * _list_depth(field_type))]
        inner = self.selection_set(node.selection_set, get_named_type(field_type), inner_path, seen)
        if inner is None:
            return None
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=node.directives,
            selection_set=inner,
            loc=node.loc,
        )
