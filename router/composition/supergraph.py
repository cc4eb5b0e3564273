"""The supergraph being built: a small mutable schema model.

In: elements added by the merger (types, fields, applied join/spec directives).
Out: ordered definitions that `printer.print_supergraph` turns into SDL; the
insertion order of fields, values, members and applied directives is the
printed order, as in Apollo's schema model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.composition.values import value_to_string

UNSET: Any = object()


@dataclass(slots=True)
class AppliedDirective:
    """``@name(arg: value, ...)``; arguments whose value is UNSET are omitted."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        args = [f"{k}: {value_to_string(v)}" for k, v in self.args.items() if v is not UNSET]
        return f"@{self.name}" + (f"({', '.join(args)})" if args else "")


@dataclass(slots=True)
class InputValue:
    """An argument or an input object field."""

    name: str
    type: str = ""
    default: Any = UNSET
    description: str | None = None
    directives: list[AppliedDirective] = field(default_factory=list)


@dataclass(slots=True)
class FieldDef:
    """A field of an object or interface type."""

    name: str
    type: str = ""
    args: dict[str, InputValue] = field(default_factory=dict)
    description: str | None = None
    directives: list[AppliedDirective] = field(default_factory=list)


@dataclass(slots=True)
class EnumValueDef:
    """A value of an enum type."""

    name: str
    description: str | None = None
    directives: list[AppliedDirective] = field(default_factory=list)


@dataclass(slots=True)
class NamedType:
    """Any named type; ``kind`` is one of object, interface, union, enum, input, scalar."""

    kind: str
    name: str
    description: str | None = None
    directives: list[AppliedDirective] = field(default_factory=list)
    fields: dict[str, FieldDef] = field(default_factory=dict)
    input_fields: dict[str, InputValue] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValueDef] = field(default_factory=dict)


@dataclass(slots=True)
class DirectiveDef:
    """A directive definition."""

    name: str
    args: dict[str, InputValue] = field(default_factory=dict)
    repeatable: bool = False
    locations: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass(slots=True)
class Supergraph:
    """The composed schema."""

    schema_directives: list[AppliedDirective] = field(default_factory=list)
    schema_description: str | None = None
    roots: dict[str, str] = field(default_factory=dict)
    directives: dict[str, DirectiveDef] = field(default_factory=dict)
    types: dict[str, NamedType] = field(default_factory=dict)
