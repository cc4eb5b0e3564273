"""Print a `Supergraph` exactly in Apollo's layout.

In: the merged `Supergraph` model.
Out: SDL text as ``printSchema(schema, shallowOrderPrintedDefinitions(...))``
of ``@apollo/federation-internals`` prints it: schema definition, directive
definitions sorted by name, then types sorted by name (ICU ``localeCompare``
order), with type-level directives one per line.
"""

from __future__ import annotations

from router.composition.supergraph import (
    UNSET,
    AppliedDirective,
    DirectiveDef,
    FieldDef,
    InputValue,
    NamedType,
    Supergraph,
)
from router.composition.values import value_to_string

INDENT = "  "
_ROOT_ORDER = ("query", "mutation", "subscription")
_KEYWORDS = {
    "object": "type",
    "interface": "interface",
    "union": "union",
    "enum": "enum",
    "input": "input",
    "scalar": "scalar",
}


def locale_key(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sort key approximating ICU root collation for GraphQL names.

    Punctuation (``_``) sorts before digits, digits before letters, letters
    compare case-insensitively first and lowercase before uppercase on ties.
    """
    primary: list[int] = []
    tertiary: list[int] = []
    for ch in name:
        if ch == "_":
            primary.append(0)
        elif ch.isdigit():
            primary.append(100 + int(ch))
        else:
            primary.append(1000 + ord(ch.lower()))
        tertiary.append(1 if ch.isupper() else 0)
    return tuple(primary), tuple(tertiary)


def print_supergraph(schema: Supergraph) -> str:
    """Render the supergraph SDL."""
    parts: list[str] = []
    schema_def = _print_schema_definition(schema)
    if schema_def:
        parts.append(schema_def)
    for name in sorted(schema.directives, key=locale_key):
        parts.append(print_directive_definition(schema.directives[name]))
    for name in sorted(schema.types, key=locale_key):
        parts.append(_print_type(schema.types[name]))
    return "\n\n".join(parts)


def _print_schema_definition(schema: Supergraph) -> str:
    roots = [(k, schema.roots[k]) for k in _ROOT_ORDER if k in schema.roots]
    directives = schema.schema_directives
    if not roots and not directives:
        return ""
    entries = [f"{INDENT}{kind}: {name}" for kind, name in roots]
    return (
        _print_description(schema.schema_description)
        + "schema"
        + _print_applied(directives, on_new_lines=True, end_with_new_line=bool(entries))
        + ("" if directives else " ")
        + ("{\n" + "\n".join(entries) + "\n}" if entries else "")
    )


def print_directive_definition(directive: DirectiveDef) -> str:
    """``directive @name(args) repeatable on LOCATIONS``."""
    return (
        f"{_print_description(directive.description)}directive @{directive.name}"
        f"{_print_args(list(directive.args.values()))}"
        f"{' repeatable' if directive.repeatable else ''} on {' | '.join(directive.locations)}"
    )


def _print_applied(
    directives: list[AppliedDirective],
    *,
    on_new_lines: bool = False,
    end_with_new_line: bool = False,
) -> str:
    if not directives:
        return ""
    if not on_new_lines:
        return " " + " ".join(str(d) for d in directives)
    joined = ("\n" + INDENT).join(str(d) for d in directives)
    return "\n" + INDENT + joined + ("\n" if end_with_new_line else "")


def _print_type(t: NamedType) -> str:
    head = _print_description(t.description) + _KEYWORDS[t.kind] + " " + t.name
    if t.kind == "scalar":
        return head + _print_applied(t.directives, on_new_lines=True)
    if t.kind == "union":
        members = " = " + " | ".join(t.members) if t.members else ""
        return (
            head
            + _print_applied(t.directives, on_new_lines=True, end_with_new_line=bool(t.members))
            + members
        )
    if t.kind == "enum":
        items = [
            _print_description(v.description, INDENT, first=i == 0)
            + INDENT
            + v.name
            + _print_applied(v.directives)
            for i, v in enumerate(t.values.values())
        ]
    elif t.kind == "input":
        items = [_print_input_field(f, first=i == 0) for i, f in enumerate(t.input_fields.values())]
    else:
        if t.interfaces:
            head += " implements " + " & ".join(t.interfaces)
        items = [_print_field(f, first=i == 0) for i, f in enumerate(t.fields.values())]
    return (
        head
        + _print_applied(t.directives, on_new_lines=True, end_with_new_line=bool(items))
        + (" " if not t.directives and items else "")
        + ("{\n" + "\n".join(items) + "\n}" if items else "")
    )


def _print_field(f: FieldDef, *, first: bool) -> str:
    return (
        _print_description(f.description, INDENT, first=first)
        + INDENT
        + f.name
        + _print_args(list(f.args.values()), INDENT)
        + f": {f.type}"
        + _print_applied(f.directives)
    )


def _print_input_field(f: InputValue, *, first: bool) -> str:
    default = f" = {value_to_string(f.default)}" if f.default is not UNSET else ""
    return (
        _print_description(f.description, INDENT, first=first)
        + INDENT
        + f"{f.name}: {f.type}{default}"
        + _print_applied(f.directives)
    )


def _print_args(args: list[InputValue], indentation: str = "") -> str:
    if not args:
        return ""
    if all(not a.description for a in args):
        return "(" + ", ".join(_print_arg(a) for a in args) + ")"
    lines = [
        _print_description(a.description, INDENT + indentation, first=i == 0)
        + INDENT
        + indentation
        + _print_arg(a)
        for i, a in enumerate(args)
    ]
    return "(\n" + "\n".join(lines) + "\n" + indentation + ")"


def _print_arg(a: InputValue) -> str:
    default = f" = {value_to_string(a.default)}" if a.default is not UNSET else ""
    return f"{a.name}: {a.type}{default}" + _print_applied(a.directives)


def _print_description(
    description: str | None, indentation: str = "", *, first: bool = True
) -> str:
    if description is None:
        return ""
    block = print_block_string(description, prefer_multiple_lines=len(description) > 70)
    prefix = "\n" + indentation if indentation and not first else indentation
    return prefix + block.replace("\n", "\n" + indentation) + "\n"


def print_block_string(value: str, *, prefer_multiple_lines: bool = False) -> str:
    """Apollo's ``printBlockString`` (without indentation)."""
    single_line = "\n" not in value
    leading_space = value[:1] in (" ", "\t")
    multiple = (
        not single_line or value.endswith('"') or value.endswith("\\") or prefer_multiple_lines
    )
    result = ""
    if multiple and not (single_line and leading_space):
        result += "\n"
    result += value
    if multiple:
        result += "\n"
    return '"""' + result.replace('"""', '\\"""') + '"""'
