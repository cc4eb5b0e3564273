"""``@inaccessible`` checks on the API schema (Apollo's ``removeInaccessibleElements``).

In: the merged `Supergraph` and the supergraph name of ``@inaccessible``.
Out: the errors Apollo raises when computing the API schema:
``REFERENCED_INACCESSIBLE`` (an inaccessible type used by an accessible field,
argument or input field), ``QUERY_ROOT_TYPE_INACCESSIBLE``,
``ONLY_INACCESSIBLE_CHILDREN`` (every field, input field, member or value
hidden), ``IMPLEMENTED_BY_INACCESSIBLE`` (a hidden field implementing a
visible interface field) and ``REQUIRED_INACCESSIBLE`` (a hidden required
argument or input field). Checks on default values and on implementing
arguments are not ported.
"""

from __future__ import annotations

from router.composition.errors import CompositionError
from router.composition.metadata import base_type
from router.composition.supergraph import UNSET, InputValue, NamedType, Supergraph

_CHILDREN = {"object": "fields", "interface": "fields", "input": "input fields"}


def inaccessible_errors(merged: Supergraph, inaccessible: str | None) -> list[CompositionError]:
    """API-schema errors caused by ``@inaccessible`` (none when it is not used)."""
    if inaccessible is None:
        return []
    return _Checker(merged, inaccessible).errors()


class _Checker:
    def __init__(self, merged: Supergraph, inaccessible: str) -> None:
        self.merged = merged
        self.name = inaccessible

    def hidden(self, element: object) -> bool:
        return any(d.name == self.name for d in getattr(element, "directives", ()))

    def errors(self) -> list[CompositionError]:
        out: list[CompositionError] = []
        for t in self.merged.types.values():
            if t.name.startswith(("join__", "link__")):
                continue
            if self.hidden(t):
                out += self._referenced(t)
            else:
                out += self._children(t)
        return out

    def _referenced(self, t: NamedType) -> list[CompositionError]:
        out: list[CompositionError] = []
        for parent in self.merged.types.values():
            if self.hidden(parent):
                continue
            for f in parent.fields.values():
                if self.hidden(f):
                    continue
                if base_type(f.type) == t.name:
                    out.append(self._referenced_error(t.name, f"{parent.name}.{f.name}"))
                for arg in f.args.values():
                    if base_type(arg.type) == t.name and not self.hidden(arg):
                        coordinate = f"{parent.name}.{f.name}({arg.name}:)"
                        out.append(self._referenced_error(t.name, coordinate))
            for field in parent.input_fields.values():
                if base_type(field.type) == t.name and not self.hidden(field):
                    out.append(self._referenced_error(t.name, f"{parent.name}.{field.name}"))
        if self.merged.roots.get("query") == t.name:
            out.append(
                CompositionError(
                    "QUERY_ROOT_TYPE_INACCESSIBLE",
                    f'Type "{t.name}" is @inaccessible but is the root query type, which must be in '
                    "the API schema.",
                )
            )
        return out

    @staticmethod
    def _referenced_error(type_name: str, referencer: str) -> CompositionError:
        return CompositionError(
            "REFERENCED_INACCESSIBLE",
            f'Type "{type_name}" is @inaccessible but is referenced by "{referencer}", which is in '
            "the API schema.",
        )

    def _children(self, t: NamedType) -> list[CompositionError]:
        out: list[CompositionError] = []
        children: list[object] = []
        if t.kind in ("object", "interface"):
            children += t.fields.values()
        elif t.kind == "input":
            children += t.input_fields.values()
        elif t.kind == "enum":
            children += t.values.values()
        elif t.kind == "union":
            children += [self.merged.types.get(m) for m in t.members]
        label = _CHILDREN.get(t.kind, "members" if t.kind == "union" else "values")
        if t.kind != "scalar" and all(self.hidden(c) for c in children):
            out.append(
                CompositionError(
                    "ONLY_INACCESSIBLE_CHILDREN",
                    f'Type "{t.name}" is in the API schema but all of its {label} are @inaccessible.',
                )
            )
        if t.kind in ("object", "interface"):
            for f in t.fields.values():
                if self.hidden(f):
                    out += self._implemented_by_hidden(t, f.name)
                    continue
                for arg in f.args.values():
                    if self.hidden(arg) and _required(arg):
                        out.append(
                            CompositionError(
                                "REQUIRED_INACCESSIBLE",
                                f'Argument "{t.name}.{f.name}({arg.name}:)" is @inaccessible but is a '
                                "required argument of its field.",
                            )
                        )
        elif t.kind == "input":
            for field in t.input_fields.values():
                if self.hidden(field) and _required(field):
                    out.append(
                        CompositionError(
                            "REQUIRED_INACCESSIBLE",
                            f'Input field "{t.name}.{field.name}" is @inaccessible but is a required '
                            "input field of its type.",
                        )
                    )
        return out

    def _implemented_by_hidden(self, t: NamedType, field_name: str) -> list[CompositionError]:
        out: list[CompositionError] = []
        for itf_name in t.interfaces:
            itf = self.merged.types.get(itf_name)
            itf_field = itf.fields.get(field_name) if itf else None
            if itf is None or itf_field is None or self.hidden(itf) or self.hidden(itf_field):
                continue
            out.append(
                CompositionError(
                    "IMPLEMENTED_BY_INACCESSIBLE",
                    f'Field "{t.name}.{field_name}" is @inaccessible but implements the interface '
                    f'field "{itf_name}.{field_name}", which is in the API schema.',
                )
            )
        return out


def _required(value: InputValue) -> bool:
    return value.type.endswith("!") and value.default is UNSET
