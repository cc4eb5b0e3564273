"""Merge validated subgraphs into a supergraph, following Apollo's ``Merger``.

In: parsed `Subgraph`s sorted by name (as Apollo's ``Subgraphs`` keeps them).
Out: a `Supergraph` model carrying link/join specs, ``join__Graph``, every
type with ``@join__type``, ``@join__implements``, ``@join__unionMember``,
``@join__enumValue``, fields with ``@join__field`` where Apollo emits it,
merged descriptions and copied spec directives (``@tag``, ``@inaccessible``,
authorization, cost); or the `CompositionError`s found while merging.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql.language import ListTypeNode, NamedTypeNode, NonNullTypeNode, TypeNode

from router.composition.errors import CompositionError
from router.composition.metadata import FederationMetadata, base_type
from router.composition.specs import (
    ACCESS_CONTROL,
    COMPOSED_BY_NAME,
    COMPOSED_DIRECTIVES,
    JOIN_SDL,
    LINK_SDL,
    LINK_URL,
    join_version,
    parse_definitions,
)
from router.composition.subgraph_sdl import Directive, Field, Subgraph
from router.composition.supergraph import (
    UNSET,
    AppliedDirective,
    EnumValueDef,
    FieldDef,
    InputValue,
    NamedType,
    Supergraph,
)
from router.composition.values import values_equal

_EXECUTABLE_LOCATIONS = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION",
}  # fmt: skip
_ROOT_KINDS = ("query", "mutation", "subscription")
_DEFAULT_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")

Sources = list[Any]  # one slot per subgraph, None where absent


def sanitize_graph_name(name: str) -> str:
    """Apollo's ``sanitizeGraphQLName`` for ``join__Graph`` values."""
    out = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if re.match(r"^\d", out):
        out = "_" + out
    if re.search(r"_\d+$", out):
        out += "_"
    return out.upper()


def subgraph_names(names: list[str]) -> str:
    """``subgraph "a"`` / ``subgraphs "a" and "b"``."""
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return "subgraph " + quoted[0]
    return "subgraphs " + join_strings(quoted, ", ")


def join_strings(
    items: list[str], sep: str = ", ", first_sep: str | None = None, last_sep: str = " and "
) -> str:
    """Apollo's ``joinStrings``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return items[0] + (first_sep or last_sep) + items[1]
    return items[0] + (first_sep or sep) + sep.join(items[1:-1]) + last_sep + items[-1]


@dataclass
class _FieldContext:
    """Override bookkeeping for one field (Apollo's ``FieldMergeContext``)."""

    used_overridden: set[int] = field(default_factory=set)
    unused_overridden: set[int] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)


class Merger:
    """Builds the supergraph; call `merge`."""

    def __init__(self, subgraphs: list[Subgraph]) -> None:
        self.subgraphs = subgraphs
        self.names = [s.name for s in subgraphs]
        self.meta = [FederationMetadata.of(s) for s in subgraphs]
        self.errors: list[CompositionError] = []
        self.merged = Supergraph()
        self.fed_version = max((s.federation_version for s in subgraphs), default=(2, 0))
        self.join_version = join_version(self.fed_version)
        self.graph: list[str] = []
        self.composed: dict[str, str] = {}  # canonical directive -> name in supergraph
        self.supergraph_to_canonical: dict[str, str] = {}
        self.to_merge: list[tuple[list[str], Sources, Any]] = []
        self.enum_usages: dict[str, str] = {}
        self.override_fields = {
            f"{t.name}.{f.name}"
            for s in subgraphs
            for t in s.types.values()
            for f in t.fields.values()
            if s.has(f.directives, "override")
        }

    # -- set-up -----------------------------------------------------------------

    def _add_spec(self, sdl: str, *, rename: dict[str, str] | None = None) -> None:
        directives, types = parse_definitions(sdl)
        for d in directives:
            d.name = (rename or {}).get(d.name, d.name)
            self.merged.directives[d.name] = d
        for t in types:
            self.merged.types[t.name] = t

    def _prepare(self) -> None:
        self._add_spec(LINK_SDL)
        self._add_spec(JOIN_SDL[self.join_version])
        major, minor = self.join_version
        self.merged.schema_directives += [
            AppliedDirective("link", {"url": LINK_URL}),
            AppliedDirective(
                "link",
                {
                    "url": f"https://specs.apollo.dev/join/v{major}.{minor}",
                    "for": _enum("EXECUTION"),
                },
            ),
        ]
        self._collect_composed_directives()
        graph_enum = self.merged.types["join__Graph"]
        sanitized = [sanitize_graph_name(n) for n in self.names]
        for s, name in zip(self.subgraphs, sanitized, strict=True):
            same = [i for i, other in enumerate(sanitized) if other == name]
            enum_name = (
                name if len(same) == 1 else f"{name}_{same.index(self.names.index(s.name)) + 1}"
            )
            self.graph.append(enum_name)
            graph_enum.values[enum_name] = EnumValueDef(
                enum_name,
                directives=[AppliedDirective("join__graph", {"name": s.name, "url": s.url})],
            )

    def _collect_composed_directives(self) -> None:
        """Which spec directives are applied anywhere, and the ``@link`` each brings."""
        for s in self.subgraphs:
            used = {d.name for d in _all_applied(s)}
            for spec in COMPOSED_DIRECTIVES:
                local = s.fed_names[spec.name]
                if local not in used:
                    continue
                existing = self.composed.get(spec.name)
                if existing is None:
                    self.composed[spec.name] = local
                elif existing != local:
                    self.errors.append(
                        CompositionError(
                            "LINK_IMPORT_NAME_MISMATCH",
                            f'The "@{spec.name}" directive (from https://specs.apollo.dev/federation/'
                            f"v{s.federation_version[0]}.{s.federation_version[1]}) is imported with "
                            f'mismatched name between subgraphs: it is imported as "@{local}" in '
                            f'{subgraph_names([s.name])} but "@{existing}" elsewhere',
                        )
                    )
        by_spec: dict[str, list[str]] = {}
        for canonical in self.composed:
            by_spec.setdefault(COMPOSED_BY_NAME[canonical].spec, []).append(canonical)
        for spec_name, canonicals in by_spec.items():
            first = COMPOSED_BY_NAME[canonicals[0]]
            imports: list[Any] = []
            rename: dict[str, str] = {}
            for canonical in canonicals:
                name = self.composed[canonical]
                default = canonical if canonical == spec_name else f"{spec_name}__{canonical}"
                rename[canonical] = name
                if name != default:
                    imports.append(
                        f"@{canonical}"
                        if canonical == name
                        else {"name": f"@{canonical}", "as": f"@{name}"}
                    )
                self.supergraph_to_canonical[name] = canonical
                self._add_spec(COMPOSED_BY_NAME[canonical].sdl, rename=rename)
            args: dict[str, Any] = {"url": f"https://specs.apollo.dev/{spec_name}/{first.version}"}
            if first.purpose:
                args["for"] = _enum(first.purpose)
            if imports:
                args["import"] = imports
            self.merged.schema_directives.append(AppliedDirective("link", args))

    # -- driver -------------------------------------------------------------------

    def merge(self) -> Supergraph | list[CompositionError]:
        """Run every merge step in Apollo's order."""
        self._prepare()
        if self.errors:
            return self.errors
        self._add_types_shallow()
        if self.errors:
            return self.errors
        kinds: dict[str, list[NamedType]] = {}
        for t in list(self.merged.types.values()):
            if t.name.startswith(("join__", "link__")) or self._is_spec_type(t.name):
                continue
            kinds.setdefault(t.kind, []).append(t)
        for t in kinds.get("object", []) + kinds.get("interface", []):
            self._merge_implements(t)
        for t in kinds.get("union", []):
            self._merge_type(t)
        self._merge_schema_definition()
        for kind in ("scalar", "input", "interface", "object"):
            for t in kinds.get(kind, []):
                self._merge_type(t)
        self._merge_executable_directives()
        for t in kinds.get("enum", []):
            self._merge_type(t)
        if "query" not in self.merged.roots:
            self.errors.append(
                CompositionError(
                    "NO_QUERIES",
                    "No queries found in any subgraph: a supergraph must have a query root type.",
                )
            )
        self._merge_all_applied_directives()
        self._add_missing_interface_object_fields()
        if not self.errors:
            self._post_merge_validations()
        return self.errors or self.merged

    def _is_spec_type(self, name: str) -> bool:
        return any(name.startswith(f"{COMPOSED_BY_NAME[c].spec}__") for c in self.composed)

    def _sources(self, name: str, kind: str) -> Sources:
        out: Sources = []
        for s, meta in zip(self.subgraphs, self.meta, strict=True):
            t = s.types.get(name)
            actual = "interface" if meta.is_interface_object(t) else (t.kind if t else None)
            out.append(t if t is not None and actual == kind else None)
        return out

    def _add_types_shallow(self) -> None:
        mismatched: list[str] = []
        with_itf_object: list[str] = []
        for s, meta in zip(self.subgraphs, self.meta, strict=True):
            for t in s.types.values():
                kind = t.kind
                if meta.is_interface_object(t):
                    kind = "interface"
                    if t.name not in with_itf_object:
                        with_itf_object.append(t.name)
                previous = self.merged.types.get(t.name)
                if previous is None:
                    self.merged.types[t.name] = NamedType(kind, t.name)
                elif previous.kind != kind and t.name not in mismatched:
                    mismatched.append(t.name)
        for name in mismatched:
            by_kind: dict[str, list[str]] = {}
            for s, meta in zip(self.subgraphs, self.meta, strict=True):
                t = s.types.get(name)
                if t is not None:
                    label = (
                        "Interface Object Type (Object Type with @interfaceObject)"
                        if meta.is_interface_object(t)
                        else _KIND_LABELS[t.kind]
                    )
                    by_kind.setdefault(label, []).append(s.name)
            parts = [f"{label} in {subgraph_names(names)}" for label, names in by_kind.items()]
            self.errors.append(
                CompositionError(
                    "TYPE_KIND_MISMATCH",
                    f'Type "{name}" has mismatched kind: it is defined as '
                    + join_strings(parts, " and ", " but "),
                )
            )
        for name in with_itf_object:
            if name in mismatched:
                continue
            if not any(
                s.types.get(name) and s.types[name].kind == "interface" for s in self.subgraphs
            ):
                defining = [s.name for s in self.subgraphs if name in s.types]
                self.errors.append(
                    CompositionError(
                        "INTERFACE_OBJECT_USAGE_ERROR",
                        f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is '
                        f"defined (it is defined in {subgraph_names(defining)} but should be defined as an "
                        "interface in at least one subgraph)",
                    )
                )

    # -- types --------------------------------------------------------------------

    def _merge_implements(self, dest: NamedType) -> None:
        implemented: list[str] = []
        for idx, source in enumerate(self._sources(dest.name, dest.kind)):
            if source is None:
                continue
            for itf in source.interfaces:
                if itf not in implemented:
                    implemented.append(itf)
                dest.directives.append(
                    AppliedDirective(
                        "join__implements", {"graph": _enum(self.graph[idx]), "interface": itf}
                    )
                )
        dest.interfaces = implemented

    def _merge_type(self, dest: NamedType) -> None:
        sources = self._sources(dest.name, dest.kind)
        self._check_extension_with_no_base(sources, dest)
        dest.description = self._merge_description(sources)
        self._add_join_type(sources, dest)
        self._record_applied(sources, dest, access_first=dest.kind == "interface")
        if dest.kind == "object":
            self._merge_object(sources, dest)
        elif dest.kind == "interface":
            self._merge_interface(sources, dest)
        elif dest.kind == "union":
            self._merge_union(sources, dest)
        elif dest.kind == "enum":
            self._merge_enum(sources, dest)
        elif dest.kind == "input":
            self._merge_input(sources, dest)

    def _check_extension_with_no_base(self, sources: Sources, dest: NamedType) -> None:
        if dest.kind == "object" and dest.name in self.merged.roots.values():
            return
        if dest.kind == "object" and dest.name in _DEFAULT_ROOTS.values():
            return
        if any(s is not None and s.has_definition for s in sources):
            return
        for idx, source in enumerate(sources):
            if source is not None and source.has_extension:
                self.errors.append(
                    CompositionError(
                        "EXTENSION_WITH_NO_BASE",
                        f'[{self.names[idx]}] Type "{dest.name}" is an extension type, but there is no type '
                        f'definition for "{dest.name}" in any subgraph.',
                    )
                )

    def _merge_description(self, sources: Sources) -> str | None:
        descriptions: list[str] = []
        counts: list[int] = []
        for source in sources:
            if source is None or source.description is None:
                continue
            if source.description in descriptions:
                counts[descriptions.index(source.description)] += 1
            else:
                descriptions.append(source.description)
                counts.append(-(2**53) if source.description == "" else 1)
        if not descriptions:
            return None
        non_empty = [d for d in descriptions if d != ""]
        if len(descriptions) == 1:
            return descriptions[0]
        if len(non_empty) == 1:
            return non_empty[0]
        return descriptions[counts.index(max(counts))]

    def _add_join_type(self, sources: Sources, dest: NamedType) -> None:
        for idx, source in enumerate(sources):
            if source is None:
                continue
            s, meta = self.subgraphs[idx], self.meta[idx]
            is_itf_object = True if meta.is_interface_object(source) else UNSET
            keys = s.applied(source.directives, "key")
            graph = _enum(self.graph[idx])
            if not keys:
                dest.directives.append(
                    AppliedDirective(
                        "join__type", {"graph": graph, "isInterfaceObject": is_itf_object}
                    )
                )
                continue
            for key in keys:
                extension = (
                    True if key.on_extension or s.has(source.directives, "extends") else UNSET
                )
                dest.directives.append(
                    AppliedDirective(
                        "join__type",
                        {
                            "graph": graph,
                            "key": key.args.get("fields", UNSET),
                            "extension": extension,
                            "resolvable": key.args.get("resolvable", UNSET),
                            "isInterfaceObject": is_itf_object,
                        },
                    )
                )

    def _merge_object(self, sources: Sources, dest: NamedType) -> None:
        added = self._add_fields_shallow(sources, dest)
        if not added:
            del self.merged.types[dest.name]
            return
        for dest_field, field_sources in added:
            context = self._validate_override(field_sources, dest, dest_field)
            self._merge_field(field_sources, dest, dest_field, context)
            self._validate_field_sharing(field_sources, dest, dest_field, context)

    def _merge_interface(self, sources: Sources, dest: NamedType) -> None:
        for dest_field, field_sources in self._add_fields_shallow(sources, dest):
            context = self._validate_override(field_sources, dest, dest_field)
            self._merge_field(field_sources, dest, dest_field, context)

    def _add_fields_shallow(
        self, sources: Sources, dest: NamedType
    ) -> list[tuple[FieldDef, Sources]]:
        added: dict[str, tuple[FieldDef, Sources]] = {}
        for idx, source in enumerate(sources):
            if source is None:
                continue
            for f in source.fields.values():
                if f.name not in added:
                    dest_field = FieldDef(f.name)
                    dest.fields[f.name] = dest_field
                    added[f.name] = (dest_field, [None] * len(sources))
                added[f.name][1][idx] = f
        return list(added.values())

    # -- fields ---------------------------------------------------------------------

    def _validate_override(
        self, sources: Sources, parent: NamedType, dest: FieldDef
    ) -> _FieldContext:
        context = _FieldContext()
        coordinate = f"{parent.name}.{dest.name}"
        if coordinate not in self.override_fields:
            return context
        with_override = {
            idx: self.subgraphs[idx].applied(f.directives, "override")[0]
            for idx, f in enumerate(sources)
            if f is not None and self.subgraphs[idx].has(f.directives, "override")
        }
        for idx, override in with_override.items():
            name = self.names[idx]
            source_type = self.subgraphs[idx].types[parent.name]
            if source_type.kind == "interface":
                self.errors.append(
                    CompositionError(
                        "OVERRIDE_ON_INTERFACE",
                        f'@override cannot be used on field "{coordinate}" on subgraph "{name}": @override is not '
                        "supported on interface type fields.",
                    )
                )
                continue
            from_name = override.args.get("from")
            if from_name not in self.names:
                continue
            if from_name == name:
                self.errors.append(
                    CompositionError(
                        "OVERRIDE_FROM_SELF_ERROR",
                        f'Source and destination subgraphs "{from_name}" are the same for overridden field "{coordinate}"',
                    )
                )
                continue
            from_idx = self.names.index(from_name)
            if from_idx in with_override:
                self.errors.append(
                    CompositionError(
                        "OVERRIDE_SOURCE_HAS_OVERRIDE",
                        f'Field "{coordinate}" on subgraph "{name}" is also marked with directive @override in '
                        f'subgraph "{from_name}". Only one @override directive is allowed per field.',
                    )
                )
                continue
            from_field = sources[from_idx]
            if from_field is None:
                continue
            from_sub = self.subgraphs[from_idx]
            conflict = next(
                (d for d in ("requires", "provides") if from_sub.has(from_field.directives, d)),
                None,
            )
            if conflict:
                self.errors.append(
                    CompositionError(
                        "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                        f'@override cannot be used on field "{coordinate}" on subgraph "{name}" since '
                        f'"{coordinate}" on "{from_name}" is marked with directive "@{from_sub.fed_names[conflict]}"',
                    )
                )
                continue
            if self.meta[from_idx].is_external(from_field):
                continue
            if self.meta[from_idx].is_used(from_field):
                context.used_overridden.add(from_idx)
            else:
                context.unused_overridden.add(from_idx)
            label = override.args.get("label")
            if label is not None:
                match = _PERCENT.match(label)
                if _LABEL.match(label) or (match and 0 <= float(match.group(1)) <= 100):
                    context.labels[idx] = label
                    context.labels[from_idx] = label
                else:
                    self.errors.append(
                        CompositionError(
                            "OVERRIDE_LABEL_INVALID",
                            f'Invalid @override label "{label}" on field "{coordinate}" on subgraph "{name}": '
                            "labels must start with a letter and after that may contain alphanumerics, "
                            "underscores, minuses, colons, periods, or slashes. Alternatively, labels may be of "
                            'the form "percent(x)" where x is a float between 0-100 inclusive.',
                        )
                    )
        return context

    def _merge_field(
        self, sources: Sources, parent: NamedType, dest: FieldDef, context: _FieldContext
    ) -> None:
        coordinate = f"{parent.name}.{dest.name}"
        defined = [(i, f) for i, f in enumerate(sources) if f is not None]
        if all(self.meta[i].is_external(f) for i, f in defined):
            self.errors.append(
                CompositionError(
                    "EXTERNAL_MISSING_ON_BASE",
                    f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed '
                    f"({subgraph_names([self.names[i] for i, _ in defined])}).",
                )
            )
            return
        without_external = [
            None if f is None or self.meta[i].is_external(f) else f for i, f in enumerate(sources)
        ]
        dest.description = self._merge_description(without_external)
        self._record_applied(without_external, dest, access_first=True, coordinate=coordinate)
        self._merge_arguments(without_external, dest, coordinate)
        all_types_equal = self._merge_type_reference(
            without_external, dest, coordinate, is_input=False
        )
        self._validate_external_types(sources, dest, coordinate, all_types_equal)
        self._add_join_field(sources, parent, dest, all_types_equal, context)

    def _merge_arguments(self, sources: Sources, dest: FieldDef, coordinate: str) -> None:
        names: list[str] = []
        for f in sources:
            if f is not None:
                names += [a for a in f.args if a not in names]
        for arg_name in names:
            arg_sources = [f.args.get(arg_name) if f is not None else None for f in sources]
            missing = [
                self.names[i]
                for i, f in enumerate(sources)
                if f is not None and arg_name not in f.args
            ]
            if missing:
                required = [
                    self.names[i]
                    for i, a in enumerate(arg_sources)
                    if a is not None and a.type.endswith("!") and not a.has_default
                ]
                if required:
                    self.errors.append(
                        CompositionError(
                            "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                            f'Argument "{coordinate}({arg_name}:)" is required in some subgraphs but does not '
                            f"appear in all subgraphs: it is required in {subgraph_names(required)} but does not "
                            f"appear in {subgraph_names(missing)}",
                        )
                    )
                continue
            arg = dest.args[arg_name] = InputValue(arg_name)
            arg.description = self._merge_description(arg_sources)
            self._record_applied(arg_sources, arg)
            self._merge_type_reference(
                arg_sources, arg, f"{coordinate}({arg_name}:)", is_input=True, argument=True
            )
            self._merge_default(arg_sources, arg, f"{coordinate}({arg_name}:)", "Argument")

    def _merge_default(
        self, sources: Sources, dest: InputValue, coordinate: str, kind: str
    ) -> None:
        value: Any = UNSET
        seen = inconsistent = incompatible = False
        for source in sources:
            if source is None:
                continue
            default = source.default if source.has_default else UNSET
            if value is UNSET:
                value = default
                if seen and default is not UNSET:
                    inconsistent = True
            elif default is UNSET or not values_equal(value, default):
                inconsistent = True
                if default is not UNSET:
                    incompatible = True
            seen = True
        if not inconsistent or incompatible:
            dest.default = value
        if incompatible:
            code = (
                "ARGUMENT_DEFAULT_MISMATCH"
                if kind == "Argument"
                else "INPUT_FIELD_DEFAULT_MISMATCH"
            )
            self.errors.append(
                CompositionError(
                    code, f'{kind} "{coordinate}" has incompatible default values across subgraphs'
                )
            )

    def _merge_type_reference(
        self,
        sources: Sources,
        dest: Any,
        coordinate: str,
        *,
        is_input: bool,
        argument: bool = False,
    ) -> bool:
        dest_type: str | None = None
        has_subtypes = has_incompatible = False
        for source in sources:
            if source is None:
                continue
            if dest_type is None or dest_type == source.type:
                dest_type = source.type
            elif self._is_strict_subtype(dest_type, source.type):
                has_subtypes = True
                if is_input:
                    dest_type = source.type
            elif self._is_strict_subtype(source.type, dest_type):
                has_subtypes = True
                if not is_input:
                    dest_type = source.type
            else:
                has_incompatible = True
        if dest_type is None:
            dest_type = next(s.type for s in sources if s is not None) if any(sources) else ""
        dest.type = dest_type
        base = base_type(dest_type)
        if base in self.merged.types and self.merged.types[base].kind == "enum":
            position = "Input" if is_input else "Output"
            existing = self.enum_usages.get(base)
            self.enum_usages[base] = "Both" if existing and existing != position else position
        if has_incompatible:
            groups: dict[str, list[str]] = {}
            for idx, source in enumerate(sources):
                if source is not None:
                    groups.setdefault(source.type, []).append(self.names[idx])
            parts = [
                f'type "{t}" in {subgraph_names(names)}'
                for t, names in groups.items()
                if t == dest_type
            ]
            parts += [
                f'type "{t}" in {subgraph_names(names)}'
                for t, names in groups.items()
                if t != dest_type
            ]
            element = "argument" if argument else "field"
            code = "ARGUMENT_TYPE_MISMATCH" if argument else "FIELD_TYPE_MISMATCH"
            self.errors.append(
                CompositionError(
                    code,
                    f'Type of {element} "{coordinate}" is incompatible across subgraphs: it has '
                    + join_strings(parts, " and ", " but "),
                )
            )
            return False
        return not has_subtypes

    def _is_strict_subtype(self, type_ref: str, maybe_sub: str) -> bool:
        return _strict_subtype(_parse_type(type_ref), _parse_type(maybe_sub), self.merged)

    def _validate_external_types(
        self, sources: Sources, dest: FieldDef, coordinate: str, all_equal: bool
    ) -> None:
        bad = False
        for idx, source in enumerate(sources):
            if source is None or not self.meta[idx].is_external(source):
                continue
            if not (
                dest.type == source.type
                or (not all_equal and self._is_strict_subtype(dest.type, source.type))
            ):
                bad = True
        if bad:
            groups: dict[str, list[str]] = {}
            for idx, source in enumerate(sources):
                if source is not None:
                    groups.setdefault(source.type, []).append(self.names[idx])
            parts = [f'type "{t}" in {subgraph_names(n)}' for t, n in groups.items()]
            self.errors.append(
                CompositionError(
                    "EXTERNAL_TYPE_MISMATCH",
                    f'Type of field "{coordinate}" is incompatible across subgraphs (where marked @external): '
                    "it has " + join_strings(parts, " and ", " but "),
                )
            )

    def _needs_join_field(
        self, sources: Sources, parent: str, all_equal: bool, context: _FieldContext
    ) -> bool:
        if not all_equal or context.used_overridden or context.labels:
            return True
        for idx, source in enumerate(sources):
            s = self.subgraphs[idx]
            if source is not None and idx not in context.unused_overridden:
                if (
                    self.meta[idx].is_external(source)
                    or s.has(source.directives, "provides")
                    or s.has(source.directives, "requires")
                ):
                    return True
            elif parent in s.types:
                return True
        return False

    def _add_join_field(
        self,
        sources: Sources,
        parent: NamedType,
        dest: Any,
        all_equal: bool,
        context: _FieldContext,
    ) -> None:
        if not self._needs_join_field(sources, parent.name, all_equal, context):
            return
        for idx, source in enumerate(sources):
            label = context.labels.get(idx)
            if source is None or (idx in context.unused_overridden and not label):
                continue
            s = self.subgraphs[idx]
            override = s.applied(source.directives, "override")
            dest.directives.append(
                AppliedDirective(
                    "join__field",
                    {
                        "graph": _enum(self.graph[idx]),
                        "requires": _fields_arg(s.applied(source.directives, "requires")),
                        "provides": _fields_arg(s.applied(source.directives, "provides")),
                        "override": override[-1].args.get("from", UNSET) if override else UNSET,
                        "type": UNSET if all_equal else source.type,
                        "external": True if self.meta[idx].is_external(source) else UNSET,
                        "usedOverridden": True if idx in context.used_overridden else UNSET,
                        "overrideLabel": label if label is not None else UNSET,
                    },
                )
            )

    def _validate_field_sharing(
        self, sources: Sources, parent: NamedType, dest: FieldDef, context: _FieldContext
    ) -> None:
        shareable: list[str] = []
        non_shareable: list[str] = []
        resolving: list[str] = []
        for idx, source in enumerate(sources):
            candidates: list[tuple[str, Field]] = []
            if source is None:
                for itf_field in self._fields_abstracted_by_itf_object(parent, dest.name, idx):
                    candidates.append(
                        (
                            f'"{self.names[idx]}" (through @interfaceObject field "{itf_field.coordinate}")',
                            itf_field,
                        )
                    )
            elif idx in context.used_overridden or idx in context.unused_overridden:
                continue
            else:
                candidates.append((f'"{self.names[idx]}"', source))
            for label, f in candidates:
                if self.meta[idx].is_fully_external(f):
                    continue
                resolving.append(label)
                (shareable if self.meta[idx].is_shareable(f) else non_shareable).append(label)
        if non_shareable and (shareable or len(non_shareable) > 1):

            def listing(items: list[str]) -> str:
                return items[0] if len(items) == 1 else join_strings(items, ", ")

            resolved = ("subgraph " if len(resolving) == 1 else "subgraphs ") + listing(resolving)
            where = (
                ("subgraph " if len(non_shareable) == 1 else "subgraphs ") + listing(non_shareable)
                if shareable
                else "all of them"
            )
            self.errors.append(
                CompositionError(
                    "INVALID_FIELD_SHARING",
                    f'Non-shareable field "{parent.name}.{dest.name}" is resolved from multiple subgraphs: it is '
                    f"resolved from {resolved} and defined as non-shareable in {where}",
                )
            )

    def _fields_abstracted_by_itf_object(
        self, parent: NamedType, field_name: str, idx: int
    ) -> list[Field]:
        s = self.subgraphs[idx]
        if parent.kind != "object" or parent.name in s.types:
            return []
        out: list[Field] = []
        for itf in parent.interfaces:
            itf_type = self.merged.types.get(itf)
            if itf_type is None or field_name not in itf_type.fields:
                continue
            in_subgraph = s.types.get(itf)
            if (
                in_subgraph is not None
                and in_subgraph.kind == "object"
                and field_name in in_subgraph.fields
            ):
                out.append(in_subgraph.fields[field_name])
        return out

    # -- unions, enums, inputs -----------------------------------------------------------

    def _merge_union(self, sources: Sources, dest: NamedType) -> None:
        for source in sources:
            if source is not None:
                dest.members += [m for m in source.members if m not in dest.members]
        for member in dest.members:
            for idx, source in enumerate(sources):
                if source is not None and member in source.members:
                    dest.directives.append(
                        AppliedDirective(
                            "join__unionMember", {"graph": _enum(self.graph[idx]), "member": member}
                        )
                    )

    def _merge_enum(self, sources: Sources, dest: NamedType) -> None:
        usage = self.enum_usages.get(dest.name, "Output")
        names: list[str] = []
        for source in sources:
            if source is not None:
                names += [v for v in source.values if v not in names]
        for name in names:
            value = dest.values[name] = EnumValueDef(name)
            value_sources = [s.values.get(name) if s is not None else None for s in sources]
            value.description = self._merge_description(value_sources)
            self._record_applied(value_sources, value)
            for idx, v in enumerate(value_sources):
                if v is not None:
                    value.directives.append(
                        AppliedDirective("join__enumValue", {"graph": _enum(self.graph[idx])})
                    )
            inaccessible = self.composed.get("inaccessible")
            is_inaccessible = inaccessible is not None and any(
                d.name == inaccessible for d in value.directives
            )
            missing = any(s is not None and name not in s.values for s in sources)
            if not is_inaccessible and usage != "Output" and missing:
                if usage == "Both":
                    self.errors.append(
                        CompositionError(
                            "ENUM_VALUE_MISMATCH",
                            f'Enum type "{dest.name}" is used as both input type and output type, but value '
                            f'"{name}" is not defined in all the subgraphs defining "{dest.name}"',
                        )
                    )
                else:
                    del dest.values[name]
        if not dest.values:
            self.errors.append(
                CompositionError(
                    "EMPTY_MERGED_ENUM_TYPE",
                    f'None of the values of enum type "{dest.name}" are defined consistently in all the subgraphs '
                    "defining that type. As only values common to all subgraphs are merged, this would result in "
                    "an empty type.",
                )
            )

    def _merge_input(self, sources: Sources, dest: NamedType) -> None:
        names: list[str] = []
        for source in sources:
            if source is not None:
                names += [f for f in source.fields if f not in names]
        inaccessible = self.composed.get("inaccessible")
        for name in names:
            field_sources = [s.fields.get(name) if s is not None else None for s in sources]
            target = dest.input_fields[name] = InputValue(name)
            coordinate = f"{dest.name}.{name}"
            target.description = self._merge_description(field_sources)
            self._record_applied(field_sources, target)
            all_equal = self._merge_type_reference(field_sources, target, coordinate, is_input=True)
            self._add_join_field(field_sources, dest, target, all_equal, _FieldContext())
            self._merge_default(field_sources, target, coordinate, "Input field")
            is_inaccessible = inaccessible is not None and any(
                d.name == inaccessible for d in target.directives
            )
            missing = [
                self.names[i]
                for i, s in enumerate(sources)
                if s is not None and name not in s.fields
            ]
            if not is_inaccessible and missing:
                required = [
                    self.names[i]
                    for i, f in enumerate(field_sources)
                    if f is not None and f.type.endswith("!") and not f.has_default
                ]
                if required:
                    self.errors.append(
                        CompositionError(
                            "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                            f'Input object field "{coordinate}" is required in some subgraphs but does not appear '
                            f"in all subgraphs: it is required in {subgraph_names(required)} but does not appear "
                            f"in {subgraph_names(missing)}",
                        )
                    )
                del dest.input_fields[name]
        if not dest.input_fields:
            self.errors.append(
                CompositionError(
                    "EMPTY_MERGED_INPUT_TYPE",
                    f'None of the fields of input object type "{dest.name}" are consistently defined in all the '
                    "subgraphs defining that type. As only fields common to all subgraphs are merged, this would "
                    "result in an empty type.",
                )
            )

    # -- schema definition and directive definitions ------------------------------------------

    def _merge_schema_definition(self) -> None:
        for kind in _ROOT_KINDS:
            root = _DEFAULT_ROOTS[kind]
            for s in self.subgraphs:
                if kind in s.roots and s.types.get(root) and s.types[root].fields:
                    self.merged.roots[kind] = root
                    break

    def _merge_executable_directives(self) -> None:
        names: list[str] = []
        for s in self.subgraphs:
            for d in s.directive_definitions.values():
                if d.name not in names and set(d.locations) & _EXECUTABLE_LOCATIONS:
                    names.append(d.name)
        from router.composition.supergraph import DirectiveDef

        for name in names:
            definitions = [s.directive_definitions.get(name) for s in self.subgraphs]
            if any(d is None for d in definitions):
                continue
            defs = [d for d in definitions if d is not None]
            locations = [loc for loc in defs[0].locations if loc in _EXECUTABLE_LOCATIONS]
            for d in defs[1:]:
                locations = [loc for loc in locations if loc in d.locations]
            if not locations:
                continue
            target = DirectiveDef(
                name,
                repeatable=all(d.repeatable for d in defs),
                locations=locations,
                description=self._merge_description(defs),
            )
            arg_names = [a for a in defs[0].args if all(a in d.args for d in defs)]
            for arg_name in arg_names:
                arg_sources = [d.args[arg_name] for d in defs]
                arg = target.args[arg_name] = InputValue(arg_name)
                arg.description = self._merge_description(arg_sources)
                self._merge_type_reference(
                    arg_sources, arg, f"@{name}({arg_name}:)", is_input=True, argument=True
                )
                self._merge_default(arg_sources, arg, f"@{name}({arg_name}:)", "Argument")
            self.merged.directives[name] = target

    # -- applied directives -------------------------------------------------------------------

    def _record_applied(
        self,
        sources: Sources,
        dest: Any,
        *,
        access_first: bool = False,
        coordinate: str | None = None,
    ) -> None:
        names: list[str] = []
        for idx, source in enumerate(sources):
            if source is None:
                continue
            for d in source.directives:
                if self._is_merged_directive(idx, d) and d.name not in names:
                    names.append(d.name)
        inaccessible = self.composed.get("inaccessible")
        if inaccessible in names:
            self._merge_applied(inaccessible, sources, dest)
            names.remove(inaccessible)
        if access_first:
            for canonical in ACCESS_CONTROL:
                name = self.composed.get(canonical)
                if name is None:
                    continue
                extra = (
                    self._access_control_sources(dest, canonical, coordinate) if coordinate else []
                )
                if name in names or extra:
                    self.to_merge.append(([name], sources + extra, dest))
                if name in names:
                    names.remove(name)
        self.to_merge.append((names, sources, dest))

    def _access_control_sources(self, dest: Any, canonical: str, coordinate: str) -> list[Any]:
        """Interface fields inherit authorization applied on their implementations' fields."""
        parent, _, field_name = coordinate.partition(".")
        itf = self.merged.types.get(parent)
        if itf is None or itf.kind != "interface":
            return []
        extra: list[Any] = []
        for idx, s in enumerate(self.subgraphs):
            for t in s.types.values():
                if t.kind != "object" or field_name not in t.fields:
                    continue
                merged_t = self.merged.types.get(t.name)
                if merged_t is None or parent not in merged_t.interfaces:
                    continue
                f = t.fields[field_name]
                if s.has(f.directives, canonical) and not self.meta[idx].is_external(f):
                    extra.append(f)
        return extra

    def _is_merged_directive(self, idx: int, d: Directive) -> bool:
        canonical = self.subgraphs[idx].canonical(d)
        if canonical is not None:
            return canonical in self.composed and self.composed[canonical] == d.name
        if d.name in ("specifiedBy", "deprecated", "oneOf"):
            return True
        definition = self.subgraphs[idx].directive_definitions.get(d.name)
        return definition is not None and d.name in self.merged.directives

    def _merge_all_applied_directives(self) -> None:
        for names, sources, dest in self.to_merge:
            for name in names:
                self._merge_applied(name, sources, dest)
        self.to_merge = []

    def _merge_applied(self, name: str, sources: Sources, dest: Any) -> None:
        per_source = [
            [d for d in source.directives if d.name == name]
            for source in sources
            if source is not None
        ]
        per_source = [ds for ds in per_source if ds]
        if not per_source:
            return
        definition = self.merged.directives.get(name)
        repeatable = definition.repeatable if definition else name == "tag"
        if repeatable:
            applied: list[Directive] = []
            for ds in per_source:
                for d in ds:
                    if not any(values_equal(d.args, a.args) for a in applied):
                        applied.append(d)
            dest.directives += [AppliedDirective(name, dict(d.args)) for d in applied]
            return
        distinct: list[Directive] = []
        counts: list[int] = []
        for ds in per_source:
            d = ds[0]
            for i, existing in enumerate(distinct):
                if values_equal(existing.args, d.args):
                    counts[i] += 1
                    break
            else:
                distinct.append(d)
                counts.append(1)
        if len(distinct) == 1:
            dest.directives.append(AppliedDirective(name, dict(distinct[0].args)))
            return
        canonical = self.supergraph_to_canonical.get(name)
        if canonical in ("requiresScopes", "policy"):
            arg = "scopes" if canonical == "requiresScopes" else "policies"
            merged = dnf_conjunction([list(d.args.get(arg, [])) for d in distinct])
            dest.directives.append(AppliedDirective(name, {arg: merged}))
        elif canonical == "cost":
            dest.directives.append(
                AppliedDirective(name, {"weight": max(d.args.get("weight", 0) for d in distinct)})
            )
        else:
            dest.directives.append(
                AppliedDirective(name, dict(distinct[counts.index(max(counts))].args))
            )

    # -- post merge -----------------------------------------------------------------------

    def _add_missing_interface_object_fields(self) -> None:
        for t in self.merged.types.values():
            if t.kind != "object":
                continue
            for itf_name in t.interfaces:
                itf = self.merged.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in itf.fields.values():
                    if itf_field.name in t.fields or not self._provided_by_itf_object(
                        itf_field.name, itf_name
                    ):
                        continue
                    implem = FieldDef(
                        itf_field.name, itf_field.type, description=itf_field.description
                    )
                    implem.directives = [
                        d for d in itf_field.directives if not d.name.startswith("join__")
                    ]
                    for arg in itf_field.args.values():
                        implem.args[arg.name] = InputValue(
                            arg.name, arg.type, arg.default, arg.description, list(arg.directives)
                        )
                    implem.directives.append(AppliedDirective("join__field", {}))
                    t.fields[implem.name] = implem

    def _provided_by_itf_object(self, field_name: str, itf_name: str) -> bool:
        for s, meta in zip(self.subgraphs, self.meta, strict=True):
            t = s.types.get(itf_name)
            if (
                meta.is_interface_object(t)
                and t is not None
                and field_name in t.fields
                and not meta.is_external(t.fields[field_name])
            ):
                return True
        return False

    def _post_merge_validations(self) -> None:
        for t in self.merged.types.values():
            if t.kind not in ("object", "interface"):
                continue
            for itf_name in t.interfaces:
                itf = self.merged.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in itf.fields:
                    if itf_field in t.fields:
                        continue
                    with_field = [
                        s.name
                        for s in self.subgraphs
                        if s.types.get(itf_name)
                        and s.types[itf_name].kind == "interface"
                        and itf_field in s.types[itf_name].fields
                    ]
                    implementing = [
                        s.name
                        for s in self.subgraphs
                        if s.types.get(t.name) and itf_name in s.types[t.name].interfaces
                    ]
                    self.errors.append(
                        CompositionError(
                            "INTERFACE_FIELD_NO_IMPLEM",
                            f'Interface field "{itf_name}.{itf_field}" is declared in {subgraph_names(with_field)} '
                            f'but type "{t.name}", which implements "{itf_name}" only in '
                            f'{subgraph_names(implementing)} does not have field "{itf_field}".',
                        )
                    )


_KIND_LABELS = {
    "object": "Object Type",
    "interface": "Interface Type",
    "union": "Union Type",
    "enum": "Enum Type",
    "input": "Input Object Type",
    "scalar": "Scalar Type",
}


def _enum(name: str) -> Any:
    from router.composition.values import EnumLiteral

    return EnumLiteral(name)


def _fields_arg(directives: list[Directive]) -> Any:
    return directives[0].args.get("fields", UNSET) if directives else UNSET


def _all_applied(s: Subgraph) -> list[Directive]:
    out: list[Directive] = []
    for t in s.types.values():
        out += t.directives
        for f in t.fields.values():
            out += f.directives
            for a in f.args.values():
                out += a.directives
        for v in t.values.values():
            out += v.directives
    return out


def _parse_type(type_ref: str) -> Any:
    from graphql.language import parse_type

    def convert(node: TypeNode) -> Any:
        if isinstance(node, NonNullTypeNode):
            return ("nn", convert(node.type))
        if isinstance(node, ListTypeNode):
            return ("list", convert(node.type))
        assert isinstance(node, NamedTypeNode)
        return node.name.value

    return convert(parse_type(type_ref))


def _strict_subtype(t: Any, sub: Any, merged: Supergraph) -> bool:
    def is_subtype(a: Any, b: Any) -> bool:
        return a == b or _strict_subtype(a, b, merged)

    if isinstance(sub, tuple) and sub[0] == "list":
        return isinstance(t, tuple) and t[0] == "list" and is_subtype(t[1], sub[1])
    if isinstance(sub, tuple) and sub[0] == "nn":
        if isinstance(t, tuple) and t[0] == "nn":
            return is_subtype(t[1], sub[1])
        return is_subtype(t, sub[1])
    if isinstance(t, str) and isinstance(sub, str):
        target = merged.types.get(t)
        candidate = merged.types.get(sub)
        if target is None or candidate is None:
            return False
        if target.kind == "union":
            return sub in target.members
        if target.kind == "interface" and candidate.kind in ("object", "interface"):
            return t in candidate.interfaces
    return False


def dnf_conjunction(values: list[list[list[str]]]) -> list[list[str]]:
    """Apollo's DNF conjunction for ``@requiresScopes``/``@policy`` arguments."""
    if not values:
        return []
    normalized: list[list[list[str]]] = []
    seen: set[str] = set()
    for value in values:
        copy = [sorted(inner) for inner in value] or [[]]
        copy.sort(key=lambda inner: _json(inner))
        key = _json(copy)
        if key not in seen:
            seen.add(key)
            normalized.append(copy)
    result = normalized[0]
    for current in normalized[1:]:
        accumulator: list[list[str]] = []
        keys: set[str] = set()
        for acc in result:
            for element in current:
                candidate = sorted(acc + [e for e in element if e not in acc])
                key = _json(candidate)
                if key not in keys:
                    keys.add(key)
                    accumulator.append(candidate)
        accumulator.sort(key=len)
        result = []
        for candidate in accumulator:
            if not any(all(e in candidate for e in r) for r in result):
                result.append(candidate)
    return result


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))
