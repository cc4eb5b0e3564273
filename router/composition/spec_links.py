"""Set-up of the supergraph: the link and join specs, ``join__Graph``, composed specs.

In: a `MergeState` whose subgraphs are parsed.
Out: the ``link``/``join`` definitions and ``@link`` schema directives, one
``join__Graph`` value per subgraph (``@join__graph(name:, url:)``), and, for
each composed spec directive applied in some subgraph (``@tag``,
``@inaccessible``, ``@authenticated``...), its definition and ``@link``
(with ``import:`` when renamed); ``LINK_IMPORT_NAME_MISMATCH`` otherwise.
"""

from __future__ import annotations

from typing import Any

from router.composition.errors import CompositionError
from router.composition.merge_state import MergeState
from router.composition.naming import enum_literal, sanitize_graph_name, subgraph_names
from router.composition.specs import (
    COMPOSED_BY_NAME,
    COMPOSED_DIRECTIVES,
    JOIN_SDL,
    LINK_SDL,
    LINK_URL,
    parse_definitions,
)
from router.composition.subgraph_sdl import Directive, Subgraph
from router.composition.supergraph import (
    AppliedDirective,
    EnumValueDef,
)


def _add_spec(state: MergeState, sdl: str, *, rename: dict[str, str] | None = None) -> None:
    directives, types = parse_definitions(sdl)
    for d in directives:
        d.name = (rename or {}).get(d.name, d.name)
        state.merged.directives[d.name] = d
    for t in types:
        state.merged.types[t.name] = t


def prepare_supergraph(state: MergeState) -> None:
    """Add link/join specs, composed spec directives and ``join__Graph`` values."""
    _add_spec(state, LINK_SDL)
    _add_spec(state, JOIN_SDL[state.join_version])
    major, minor = state.join_version
    state.merged.schema_directives += [
        AppliedDirective("link", {"url": LINK_URL}),
        AppliedDirective(
            "link",
            {
                "url": f"https://specs.apollo.dev/join/v{major}.{minor}",
                "for": enum_literal("EXECUTION"),
            },
        ),
    ]
    _collect_composed_directives(state)
    graph_enum = state.merged.types["join__Graph"]
    sanitized = [sanitize_graph_name(n) for n in state.names]
    for s, name in zip(state.subgraphs, sanitized, strict=True):
        same = [i for i, other in enumerate(sanitized) if other == name]
        enum_name = (
            name if len(same) == 1 else f"{name}_{same.index(state.names.index(s.name)) + 1}"
        )
        state.graph.append(enum_name)
        graph_enum.values[enum_name] = EnumValueDef(
            enum_name,
            directives=[AppliedDirective("join__graph", {"name": s.name, "url": s.url})],
        )


def _collect_composed_directives(state: MergeState) -> None:
    """Which spec directives are applied anywhere, and the ``@link`` each brings."""
    for s in state.subgraphs:
        used = {d.name for d in _all_applied(s)}
        for spec in COMPOSED_DIRECTIVES:
            local = s.fed_names[spec.name]
            if local not in used:
                continue
            existing = state.composed.get(spec.name)
            if existing is None:
                state.composed[spec.name] = local
            elif existing != local:
                state.errors.append(
                    CompositionError(
                        "LINK_IMPORT_NAME_MISMATCH",
                        f'The "@{spec.name}" directive (from https://specs.apollo.dev/federation/'
                        f"v{s.federation_version[0]}.{s.federation_version[1]}) is imported with "
                        f'mismatched name between subgraphs: it is imported as "@{local}" in '
                        f'{subgraph_names([s.name])} but "@{existing}" elsewhere',
                    )
                )
    by_spec: dict[str, list[str]] = {}
    for canonical in state.composed:
        by_spec.setdefault(COMPOSED_BY_NAME[canonical].spec, []).append(canonical)
    for spec_name, canonicals in by_spec.items():
        first = COMPOSED_BY_NAME[canonicals[0]]
        imports: list[Any] = []
        rename: dict[str, str] = {}
        for canonical in canonicals:
            name = state.composed[canonical]
            default = canonical if canonical == spec_name else f"{spec_name}__{canonical}"
            rename[canonical] = name
            if name != default:
                imports.append(
                    f"@{canonical}"
                    if canonical == name
                    else {"name": f"@{canonical}", "as": f"@{name}"}
                )
            state.supergraph_to_canonical[name] = canonical
            _add_spec(state, COMPOSED_BY_NAME[canonical].sdl, rename=rename)
        args: dict[str, Any] = {"url": f"https://specs.apollo.dev/{spec_name}/{first.version}"}
        if first.purpose:
            args["for"] = enum_literal(first.purpose)
        if imports:
            args["import"] = imports
        state.merged.schema_directives.append(AppliedDirective("link", args))


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
