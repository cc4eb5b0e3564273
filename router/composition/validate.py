"""Subgraph-level validation of federation directives.

In: a parsed `Subgraph`.
Out: `CompositionError`s as Apollo reports them before merging: unknown
types (``INVALID_GRAPHQL``), invalid ``@key``/``@requires``/``@provides``
field sets (``KEY_INVALID_FIELDS``, ``KEY_FIELDS_SELECT_INVALID_TYPE``,
``REQUIRES_INVALID_FIELDS``, ``REQUIRES_FIELDS_MISSING_EXTERNAL``,
``PROVIDES_*``) and unused ``@external`` fields (``EXTERNAL_UNUSED``).
"""

from __future__ import annotations

from router.composition.errors import CompositionError, subgraph_error
from router.composition.metadata import FederationMetadata, base_type, select_fields
from router.composition.subgraph_sdl import Directive, Field, Subgraph

_BUILTIN_SCALARS = {"Int", "Float", "String", "Boolean", "ID"}


def validate_subgraph(subgraph: Subgraph) -> list[CompositionError]:
    """All subgraph-local errors, in Apollo's order where it matters."""
    errors = _unknown_types(subgraph)
    if errors:
        return errors
    meta = FederationMetadata.of(subgraph)
    s = subgraph
    for t in s.types.values():
        for key in s.applied(t.directives, "key"):
            errors += _validate_field_set(
                s, meta, "key", key, t.name, f'On type "{t.name}"', key_rules=True
            )
    for t in s.types.values():
        for f in t.fields.values():
            for requires in s.applied(f.directives, "requires"):
                errors += _validate_field_set(
                    s, meta, "requires", requires, t.name, f'On field "{f.coordinate}"'
                )
    for t in s.types.values():
        for f in t.fields.values():
            for provides in s.applied(f.directives, "provides"):
                where = f'On field "{f.coordinate}"'
                target = s.types.get(base_type(f.type))
                if meta.is_external(f):
                    errors.append(
                        subgraph_error(
                            "EXTERNAL_COLLISION_WITH_ANOTHER_DIRECTIVE",
                            s.name,
                            f'Cannot have both @provides and @external on field "{f.coordinate}"',
                        )
                    )
                elif target is None or target.kind not in ("object", "interface", "union"):
                    errors.append(
                        subgraph_error(
                            "PROVIDES_ON_NON_OBJECT_FIELD",
                            s.name,
                            f'{where}, for {provides}: Invalid @provides directive on field "{f.coordinate}": '
                            f'field has type "{f.type}" which is not a Composite Type',
                        )
                    )
                else:
                    errors += _validate_field_set(s, meta, "provides", provides, target.name, where)
    for t in s.types.values():
        if t.kind not in ("object", "interface"):
            continue
        for f in t.fields.values():
            if meta.is_external(f) and not meta.is_used(f):
                errors.append(
                    subgraph_error(
                        "EXTERNAL_UNUSED",
                        s.name,
                        f'Field "{f.coordinate}" is marked @external but is not used in any federation directive '
                        "(@key, @provides, @requires) or to satisfy an interface; the field declaration has no "
                        "use and should be removed (or the field should not be @external).",
                    )
                )
    return errors


def _unknown_types(s: Subgraph) -> list[CompositionError]:
    known = set(s.types) | _BUILTIN_SCALARS
    errors: list[CompositionError] = []
    seen: set[str] = set()

    def check(type_ref: str) -> None:
        name = base_type(type_ref)
        if name not in known and name not in seen:
            seen.add(name)
            errors.append(subgraph_error("INVALID_GRAPHQL", s.name, f"Unknown type {name}"))

    for t in s.types.values():
        for f in t.fields.values():
            check(f.type)
            for a in f.args.values():
                check(a.type)
        for m in t.members:
            check(m)
        for i in t.interfaces:
            check(i)
    return errors


def _validate_field_set(
    s: Subgraph,
    meta: FederationMetadata,
    kind: str,
    directive: Directive,
    parent: str,
    where: str,
    *,
    key_rules: bool = False,
) -> list[CompositionError]:
    upper = kind.upper()
    prefix = f"{where}, for {directive}: "
    fields = directive.args.get("fields")
    if not isinstance(fields, str):
        return [
            subgraph_error(
                f"{upper}_INVALID_FIELDS_TYPE",
                s.name,
                f'{prefix}Invalid value for argument "fields": must be a string.',
            )
        ]
    errors: list[CompositionError] = []

    def on_field(f: Field, has_selection: bool, external_in_parents: bool) -> None:
        if key_rules:
            target = s.types.get(base_type(f.type))
            if target is not None and target.kind in ("union", "interface"):
                kind_name = "Union" if target.kind == "union" else "Interface"
                errors.append(
                    subgraph_error(
                        "KEY_FIELDS_SELECT_INVALID_TYPE",
                        s.name,
                        f'{prefix}field "{f.coordinate}" is a {kind_name} type which is not allowed in @key',
                    )
                )
        if kind != "requires" and f.args:
            errors.append(
                subgraph_error(
                    f"{upper}_FIELDS_HAS_ARGS",
                    s.name,
                    f"{prefix}field {f.coordinate} cannot be included because it has arguments "
                    f"(fields with argument are not allowed in @{kind})",
                )
            )
        if (
            not key_rules
            and not has_selection
            and not external_in_parents
            and not meta.is_external(f)
        ):
            if meta.is_fake_external(f):
                reason = (
                    'is already "effectively" provided by this subgraph (while it is marked @external, it is a '
                    "@key field of an extension type, which are not internally considered external for "
                    "historical/backward compatibility reasons)"
                )
            else:
                reason = "is already provided by this subgraph (it is not marked @external)"
            errors.append(
                subgraph_error(
                    f"{upper}_FIELDS_MISSING_EXTERNAL",
                    s.name,
                    f'{prefix}field "{f.coordinate}" should not be part of a @{kind} since it {reason}',
                )
            )

    selection = select_fields(s, parent, fields, include_implementations=False, on_field=on_field)
    for message in selection.errors[:1]:
        if message.startswith("Cannot query field"):
            message = message.rstrip(".")
            message += (
                " (the field should either be added to this subgraph or, if it should not be resolved by this "
                "subgraph, you need to add it to this subgraph with @external)."
                if key_rules
                else " (if the field is defined in another subgraph, you need to add it to this subgraph with @external)."
            )
        return [subgraph_error(f"{upper}_INVALID_FIELDS", s.name, prefix + message)]
    return errors
