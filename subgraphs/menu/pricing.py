"""Customization and pricing of cart lines: pure rules over a snapshot of one store's menu.

Enters: :class:`LineRequest` values (what ``priceLines`` received) and a
:class:`MenuSnapshot` that ``service.load_menu_snapshot`` read for the store.
Leaves: :class:`PricedLines`, or the first broken rule as a :class:`DomainError`
whose ``field`` names the offending input, e.g. ``lines[1].toppings[0]``.

Pricing, in integer minor units only:

- unit price = variant price + toppings beyond the product's defaults;
- a topping is counted per half: each half carries a number of portions
  (:data:`AMOUNT_PORTIONS`: LIGHT and NORMAL one, EXTRA two, DOUBLE three, i.e.
  EXTRA is one portion beyond NORMAL and DOUBLE two), and every portion beyond
  the default on a half costs half the topping's whole-pizza price for the size;
- removing or lightening a default topping never lowers the price;
- the toppings' half-cents are summed for the unit and rounded once, half up,
  to the cent (two halves at 1.75 cost 1.75; one half costs 0.88);
- line total = unit price times quantity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shared.errors import DomainError

PIZZA_SIZES = (10, 12, 14, 16)
MIN_QUANTITY, MAX_QUANTITY = 1, 25
MAX_TOPPING_PORTIONS = 10
"""Most whole-pizza portions of toppings on one pizza (sauces do not count)."""
MAX_CHOICES_PER_LINE = 30
MAX_LINES = 50

AMOUNT_PORTIONS: Mapping[str, int] = {"NONE": 0, "LIGHT": 1, "NORMAL": 1, "EXTRA": 2, "DOUBLE": 3}
HALVES = ("LEFT", "RIGHT")
UNCOUNTED_GROUPS = frozenset({"SAUCE"})
_AMOUNT_WORDS = {
    "NONE": "no ",
    "LIGHT": "light ",
    "NORMAL": "",
    "EXTRA": "extra ",
    "DOUBLE": "double ",
}
_DEFAULT_INSTRUCTIONS = ("NORMAL", "PIE", True)


@dataclass(frozen=True, slots=True)
class ToppingChoice:
    """One topping choice of a line, as the customer sent it."""

    topping_code: str
    placement: str
    amount: str


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One cart line as the customer sent it (``OrderLineInput`` without GraphQL)."""

    variant_id: str
    quantity: int
    toppings: Sequence[ToppingChoice] = ()
    bake: str = "NORMAL"
    cut: str = "PIE"
    seasoning: bool = True


@dataclass(frozen=True, slots=True)
class MenuTopping:
    """A topping as the store sells it: per-size whole-pizza prices and availability."""

    code: str
    name: str
    group: str
    whole_only: bool
    exclusive: bool
    prices: Mapping[int, int]
    available: bool = True


@dataclass(frozen=True, slots=True)
class MenuVariant:
    """A variant with what pricing needs of its product, as the store sells it."""

    id: str
    code: str
    name: str
    size: int | None
    price: int
    product_id: str
    product_name: str
    category_code: str
    is_pizza: bool
    default_toppings: Sequence[tuple[str, str]] = ()
    """(topping code, amount) pairs, on the whole pizza."""
    available: bool = True


@dataclass(slots=True)
class MenuSnapshot:
    """What one store sells, for the variants of a cart."""

    variants: Mapping[str, MenuVariant]
    toppings: Mapping[str, MenuTopping]


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A validated, priced line."""

    index: int
    variant_id: str
    product_id: str
    product_name: str
    variant_name: str
    category_code: str
    size: int | None
    quantity: int
    unit_price: int
    line_total: int
    description: str


@dataclass(frozen=True, slots=True)
class PricedLines:
    """Every line priced, and their sum."""

    lines: list[PricedLine] = field(default_factory=list)
    subtotal: int = 0


def price_lines(*, lines: Sequence[LineRequest], menu: MenuSnapshot) -> PricedLines:
    """Validate and price every line; the first broken rule raises."""
    if len(lines) > MAX_LINES:
        raise DomainError(
            f"A cart holds at most {MAX_LINES} lines.", code="TOO_MANY_LINES", field="lines"
        )
    priced = [price_line(index=i, line=line, menu=menu) for i, line in enumerate(lines)]
    return PricedLines(lines=priced, subtotal=sum(p.line_total for p in priced))


def _fail(label: str, message: str, *, code: str, field: str) -> DomainError:
    return DomainError(f"{label}: {message}", code=code, field=field)


def price_line(*, index: int, line: LineRequest, menu: MenuSnapshot) -> PricedLine:
    """Validate and price line ``index`` of a cart."""
    path = f"lines[{index}]"
    label = f"Line {index + 1}"
    if not MIN_QUANTITY <= line.quantity <= MAX_QUANTITY:
        raise _fail(
            label,
            f"the quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}.",
            code="INVALID_QUANTITY",
            field=f"{path}.quantity",
        )
    variant = menu.variants.get(line.variant_id)
    if variant is None:
        raise _fail(
            label,
            f"no product variant has id {line.variant_id!r}.",
            code="INVALID_VARIANT",
            field=f"{path}.variantId",
        )
    label = f"Line {index + 1} ({variant.product_name})"
    if not variant.available:
        raise _fail(
            label,
            f"{variant.name} is not available at this store.",
            code="VARIANT_UNAVAILABLE",
            field=f"{path}.variantId",
        )
    if not variant.is_pizza:
        _check_not_customized(label, path, line)
        return _priced(index, line, variant, variant.price, description=_title(variant))
    defaults = {code: {h: amount for h in HALVES} for code, amount in variant.default_toppings}
    state = _apply_choices(label, path, line, variant, menu, defaults)
    toppings_x2 = 0  # in half-cents: each half-portion costs half the whole-pizza price
    for code, halves in state.items():
        topping = menu.toppings[code]
        for half in HALVES:
            default_portions = AMOUNT_PORTIONS[defaults.get(code, {}).get(half, "NONE")]
            extra = AMOUNT_PORTIONS[halves[half]] - default_portions
            if extra > 0:
                toppings_x2 += extra * topping.prices[variant.size or 0]
    unit = variant.price + (toppings_x2 + 1) // 2  # round half up, once per unit
    description = _describe(variant, line, state, defaults, menu)
    return _priced(index, line, variant, unit, description=description)


def _priced(
    index: int, line: LineRequest, variant: MenuVariant, unit: int, *, description: str
) -> PricedLine:
    return PricedLine(
        index=index,
        variant_id=variant.id,
        product_id=variant.product_id,
        product_name=variant.product_name,
        variant_name=variant.name,
        category_code=variant.category_code,
        size=variant.size,
        quantity=line.quantity,
        unit_price=unit,
        line_total=unit * line.quantity,
        description=description,
    )


def _check_not_customized(label: str, path: str, line: LineRequest) -> None:
    if line.toppings:
        raise _fail(
            label,
            "only pizzas take toppings.",
            code="NOT_CUSTOMIZABLE",
            field=f"{path}.toppings",
        )
    if (line.bake, line.cut, line.seasoning) != _DEFAULT_INSTRUCTIONS:
        raise _fail(
            label,
            "only pizzas take cooking instructions.",
            code="NOT_CUSTOMIZABLE",
            field=f"{path}.instructions",
        )


def _apply_choices(
    label: str,
    path: str,
    line: LineRequest,
    variant: MenuVariant,
    menu: MenuSnapshot,
    defaults: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, str]]:
    """The amount of every topping on each half after the customer's changes."""
    if len(line.toppings) > MAX_CHOICES_PER_LINE:
        raise _fail(
            label,
            f"at most {MAX_CHOICES_PER_LINE} topping choices per line.",
            code="TOO_MANY_TOPPINGS",
            field=f"{path}.toppings",
        )
    state = {code: dict(halves) for code, halves in defaults.items()}
    chosen_at: dict[str, int] = {}  # topping code -> index of its last choice
    set_halves: set[tuple[str, str]] = set()
    for j, choice in enumerate(line.toppings):
        at = f"{path}.toppings[{j}]"
        topping = menu.toppings.get(choice.topping_code)
        if topping is None:
            raise _fail(
                label,
                f"there is no topping {choice.topping_code!r}.",
                code="INVALID_TOPPING",
                field=at,
            )
        if choice.placement in HALVES and topping.whole_only:
            raise _fail(
                label,
                f"{topping.name} goes on the whole pizza only, not on one half.",
                code="WHOLE_ONLY_TOPPING",
                field=at,
            )
        if choice.amount != "NONE" and not topping.available:
            raise _fail(
                label,
                f"{topping.name} is not available at this store.",
                code="TOPPING_UNAVAILABLE",
                field=at,
            )
        halves = HALVES if choice.placement == "WHOLE" else (choice.placement,)
        for half in halves:
            if (topping.code, half) in set_halves:
                raise _fail(
                    label,
                    f"{topping.name} is chosen twice for the same part of the pizza.",
                    code="DUPLICATE_TOPPING",
                    field=at,
                )
            set_halves.add((topping.code, half))
            state.setdefault(topping.code, dict.fromkeys(HALVES, "NONE"))[half] = choice.amount
        chosen_at[topping.code] = j
    _replace_default_exclusives(state, chosen_at, menu)
    _check_exclusive_groups(label, path, state, chosen_at, menu)
    _check_defaults_available(label, path, state, chosen_at, menu)
    half_portions = sum(
        AMOUNT_PORTIONS[amount]
        for code, halves in state.items()
        if menu.toppings[code].group not in UNCOUNTED_GROUPS
        for amount in halves.values()
    )
    if half_portions > 2 * MAX_TOPPING_PORTIONS:
        raise _fail(
            label,
            f"at most {MAX_TOPPING_PORTIONS} portions of toppings fit on a pizza "
            f"(extra counts two, double three, a half counts half).",
            code="TOO_MANY_TOPPINGS",
            field=f"{path}.toppings",
        )
    return state


def _on_pizza(halves: Mapping[str, str]) -> bool:
    return any(amount != "NONE" for amount in halves.values())


def _replace_default_exclusives(
    state: dict[str, dict[str, str]], chosen_at: Mapping[str, int], menu: MenuSnapshot
) -> None:
    """Choosing another sauce replaces the default sauce the customer did not mention."""
    for code in chosen_at:
        topping = menu.toppings[code]
        if not topping.exclusive or not _on_pizza(state[code]):
            continue
        for other, halves in state.items():
            if other not in chosen_at and menu.toppings[other].group == topping.group:
                for half in halves:
                    halves[half] = "NONE"


def _check_exclusive_groups(
    label: str,
    path: str,
    state: Mapping[str, Mapping[str, str]],
    chosen_at: Mapping[str, int],
    menu: MenuSnapshot,
) -> None:
    groups: dict[str, list[str]] = {}
    for code, halves in state.items():
        topping = menu.toppings[code]
        if topping.exclusive and _on_pizza(halves):
            groups.setdefault(topping.group, []).append(code)
    for group, codes in groups.items():
        if len(codes) > 1:
            last = max((chosen_at[c] for c in codes if c in chosen_at), default=None)
            names = " and ".join(menu.toppings[c].name for c in codes)
            raise _fail(
                label,
                f"choose one {group.lower()} only, not {names}.",
                code="TOO_MANY_SAUCES" if group == "SAUCE" else f"TOO_MANY_{group}",
                field=f"{path}.toppings[{last}]" if last is not None else f"{path}.toppings",
            )


def _check_defaults_available(
    label: str,
    path: str,
    state: Mapping[str, Mapping[str, str]],
    chosen_at: Mapping[str, int],
    menu: MenuSnapshot,
) -> None:
    """A default topping the store ran out of must be removed explicitly (amount NONE)."""
    for code, halves in state.items():
        topping = menu.toppings[code]
        if code not in chosen_at and not topping.available and _on_pizza(halves):
            raise _fail(
                label,
                f"{topping.name} is not available at this store; remove it (amount NONE).",
                code="TOPPING_UNAVAILABLE",
                field=f"{path}.toppings",
            )


def _title(variant: MenuVariant) -> str:
    if variant.is_pizza:
        return f"{variant.name} {variant.product_name}"
    return f"{variant.product_name} ({variant.name})"


def receipt_name(name: str) -> str:
    """A topping name as a receipt writes it: lower case, acronyms kept (BBQ)."""
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in name.split())


def _describe(
    variant: MenuVariant,
    line: LineRequest,
    state: Mapping[str, Mapping[str, str]],
    defaults: Mapping[str, Mapping[str, str]],
    menu: MenuSnapshot,
) -> str:
    """A receipt line: '14" Hand Tossed Pepperoni Pizza — left: mushrooms; well done'."""
    whole: list[str] = []
    parts: dict[str, list[str]] = {"LEFT": [], "RIGHT": []}
    for code, halves in state.items():
        name = receipt_name(menu.toppings[code].name)
        before = defaults.get(code, dict.fromkeys(HALVES, "NONE"))
        if halves["LEFT"] == halves["RIGHT"]:
            if halves != before:
                whole.append(_AMOUNT_WORDS[halves["LEFT"]] + name)
            continue
        for half in HALVES:
            if halves[half] != before[half]:
                parts[half].append(_AMOUNT_WORDS[halves[half]] + name)
    segments = [", ".join(whole)] if whole else []
    segments += [f"{half.lower()}: {', '.join(p)}" for half, p in parts.items() if p]
    if line.bake == "WELL_DONE":
        segments.append("well done")
    if line.cut == "SQUARE":
        segments.append("square cut")
    elif line.cut == "UNCUT":
        segments.append("uncut")
    if not line.seasoning:
        segments.append("no garlic seasoning")
    title = _title(variant)
    return f"{title} — {'; '.join(segments)}" if segments else title
