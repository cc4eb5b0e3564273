"""menu pricing and customization rules, without GraphQL or a database (``pricing.py``)."""

from __future__ import annotations

import pytest

from shared.errors import DomainError
from subgraphs.menu.pricing import (
    LineRequest,
    MenuSnapshot,
    MenuTopping,
    MenuVariant,
    ToppingChoice,
    price_lines,
)

SIZES = (10, 12, 14, 16)


def _topping(code, name, group, prices, *, whole_only=False, exclusive=False, available=True):
    return MenuTopping(
        code=code,
        name=name,
        group=group,
        whole_only=whole_only,
        exclusive=exclusive,
        prices=dict(zip(SIZES, prices, strict=True)),
        available=available,
    )


PEPPERONI_DEFAULTS = (("TOMATO", "NORMAL"), ("MOZZARELLA", "NORMAL"), ("PEPPERONI", "NORMAL"))
MENU = MenuSnapshot(
    toppings={
        t.code: t
        for t in (
            _topping(
                "TOMATO",
                "Robust Tomato Sauce",
                "SAUCE",
                (0, 0, 0, 0),
                whole_only=True,
                exclusive=True,
            ),
            _topping("BBQ", "BBQ Sauce", "SAUCE", (0, 0, 0, 0), whole_only=True, exclusive=True),
            _topping("MOZZARELLA", "Mozzarella", "CHEESE", (125, 150, 175, 200), whole_only=True),
            _topping("PEPPERONI", "Pepperoni", "MEAT", (150, 175, 200, 225)),
            _topping("HAM", "Ham", "MEAT", (150, 175, 200, 225)),
            _topping("BACON", "Bacon", "MEAT", (150, 175, 200, 225)),
            _topping("MUSHROOMS", "Mushrooms", "VEGGIE", (100, 125, 150, 175)),
            _topping("ONIONS", "Onions", "VEGGIE", (100, 125, 150, 175)),
            _topping("OLIVES", "Black Olives", "VEGGIE", (100, 125, 150, 175)),
            _topping("JALAPENOS", "Jalapeños", "VEGGIE", (100, 125, 150, 175), available=False),
        )
    },
    variants={
        v.id: v
        for v in (
            MenuVariant(
                id="pep14",
                code="PEPPERONI-14-HT",
                name='14" Hand Tossed',
                size=14,
                price=1499,
                product_id="pep",
                product_name="Pepperoni Pizza",
                category_code="PIZZA",
                is_pizza=True,
                default_toppings=PEPPERONI_DEFAULTS,
            ),
            MenuVariant(
                id="pep12",
                code="PEPPERONI-12-HT",
                name='12" Hand Tossed',
                size=12,
                price=1299,
                product_id="pep",
                product_name="Pepperoni Pizza",
                category_code="PIZZA",
                is_pizza=True,
                default_toppings=PEPPERONI_DEFAULTS,
            ),
            MenuVariant(
                id="pep10gf",
                code="PEPPERONI-10-GF",
                name='10" Gluten Free Crust',
                size=10,
                price=1399,
                product_id="pep",
                product_name="Pepperoni Pizza",
                category_code="PIZZA",
                is_pizza=True,
                default_toppings=PEPPERONI_DEFAULTS,
                available=False,
            ),
            MenuVariant(
                id="knots8",
                code="GARLIC_KNOTS-8",
                name="8 pieces",
                size=None,
                price=599,
                product_id="knots",
                product_name="Garlic Knots",
                category_code="SIDES",
                is_pizza=False,
            ),
        )
    },
)


def choice(code: str, placement: str = "WHOLE", amount: str = "NORMAL") -> ToppingChoice:
    return ToppingChoice(topping_code=code, placement=placement, amount=amount)


def price(variant: str = "pep14", *choices: ToppingChoice, quantity: int = 1, **kw):
    """The single priced line of a one-line cart."""
    line = LineRequest(variant_id=variant, quantity=quantity, toppings=choices, **kw)
    return price_lines(lines=[line], menu=MENU).lines[0]


def rule_broken(*lines: LineRequest) -> DomainError:
    with pytest.raises(DomainError) as caught:
        price_lines(lines=list(lines), menu=MENU)
    return caught.value


OK = LineRequest(variant_id="pep14", quantity=1)


def test_plain_variant_costs_its_price_times_quantity() -> None:
    line = price("pep14", quantity=3)
    assert (line.unit_price, line.line_total) == (1499, 4497)
    assert line.description == '14" Hand Tossed Pepperoni Pizza'
    assert (line.product_name, line.variant_name, line.size, line.category_code) == (
        "Pepperoni Pizza",
        '14" Hand Tossed',
        14,
        "PIZZA",
    )


def test_subtotal_sums_line_totals_and_keeps_indexes() -> None:
    result = price_lines(lines=[LineRequest("pep14", 2), LineRequest("knots8", 1)], menu=MENU)
    assert [line.index for line in result.lines] == [0, 1]
    assert result.subtotal == 2 * 1499 + 599


def test_half_and_half_pricing_and_receipt() -> None:
    # Mushrooms on the left: half of 1.50; extra onions on the right: two half-portions of 1.50.
    line = price(
        "pep14",
        choice("MUSHROOMS", "LEFT"),
        choice("ONIONS", "RIGHT", "EXTRA"),
        bake="WELL_DONE",
    )
    assert line.unit_price == 1499 + 75 + 150
    assert line.description == (
        '14" Hand Tossed Pepperoni Pizza — left: mushrooms; right: extra onions; well done'
    )


def test_a_half_rounds_half_up_to_the_cent_once_per_unit() -> None:
    assert price("pep12", choice("MUSHROOMS", "LEFT")).unit_price == 1299 + 63  # 62.5 -> 63
    two_halves = price("pep12", choice("MUSHROOMS", "LEFT"), choice("ONIONS", "RIGHT"))
    assert two_halves.unit_price == 1299 + 125  # 62.5 + 62.5, rounded once


def test_added_topping_on_the_whole_pizza_costs_one_portion() -> None:
    assert price("pep14", choice("MUSHROOMS")).unit_price == 1499 + 150


def test_light_costs_the_same_as_normal() -> None:
    assert price("pep14", choice("MUSHROOMS", amount="LIGHT")).unit_price == 1499 + 150


def test_extra_is_one_portion_beyond_normal_and_double_two() -> None:
    assert price("pep14", choice("MUSHROOMS", amount="EXTRA")).unit_price == 1499 + 300
    assert price("pep14", choice("MUSHROOMS", amount="DOUBLE")).unit_price == 1499 + 450
    # Pepperoni is a default: NORMAL is included, only the portions beyond it cost.
    assert price("pep14", choice("PEPPERONI", amount="EXTRA")).unit_price == 1499 + 200
    assert price("pep14", choice("PEPPERONI", amount="DOUBLE")).unit_price == 1499 + 400


def test_extra_default_on_one_half_costs_half_a_portion() -> None:
    line = price("pep14", choice("PEPPERONI", "LEFT", "EXTRA"), choice("PEPPERONI", "RIGHT"))
    assert line.unit_price == 1499 + 100
    assert line.description.endswith("— left: extra pepperoni")


def test_removing_a_default_does_not_lower_the_price() -> None:
    removed = price("pep14", choice("PEPPERONI", amount="NONE"))
    assert removed.unit_price == 1499
    assert removed.description == '14" Hand Tossed Pepperoni Pizza — no pepperoni'
    swapped = price("pep14", choice("PEPPERONI", amount="NONE"), choice("MUSHROOMS"))
    assert swapped.unit_price == 1499 + 150


def test_lightening_a_default_keeps_the_price() -> None:
    line = price("pep14", choice("MOZZARELLA", amount="LIGHT"))
    assert line.unit_price == 1499
    assert line.description.endswith("— light mozzarella")


def test_a_default_can_be_removed_from_one_half() -> None:
    line = price("pep14", choice("PEPPERONI", "RIGHT", "NONE"))
    assert line.unit_price == 1499
    assert line.description.endswith("— right: no pepperoni")


def test_choosing_another_sauce_replaces_the_default_one_for_free() -> None:
    line = price("pep14", choice("BBQ"))
    assert line.unit_price == 1499
    assert line.description.endswith("— no robust tomato sauce, BBQ sauce")


def test_instructions_appear_on_the_receipt() -> None:
    line = price("pep14", cut="SQUARE", seasoning=False)
    assert line.description.endswith("— square cut; no garlic seasoning")


def test_non_pizza_receipt_names_the_pack() -> None:
    assert price("knots8", quantity=2).description == "Garlic Knots (8 pieces)"


@pytest.mark.parametrize("quantity", [0, 26, -1])
def test_quantity_outside_1_to_25_is_refused(quantity: int) -> None:
    error = rule_broken(OK, LineRequest("pep14", quantity))
    assert (error.code, error.field) == ("INVALID_QUANTITY", "lines[1].quantity")
    assert "Line 2" in error.message


def test_unknown_variant_is_refused() -> None:
    error = rule_broken(OK, LineRequest("nope", 1))
    assert (error.code, error.field) == ("INVALID_VARIANT", "lines[1].variantId")


def test_unavailable_variant_is_refused() -> None:
    error = rule_broken(LineRequest("pep10gf", 1))
    assert (error.code, error.field) == ("VARIANT_UNAVAILABLE", "lines[0].variantId")


def test_unknown_topping_is_refused_with_its_position() -> None:
    error = rule_broken(OK, LineRequest("pep14", 1, (choice("MUSHROOMS"), choice("KALE"))))
    assert (error.code, error.field) == ("INVALID_TOPPING", "lines[1].toppings[1]")
    assert "Line 2 (Pepperoni Pizza)" in error.message


def test_topping_unavailable_at_the_store_is_refused() -> None:
    error = rule_broken(LineRequest("pep14", 1, (choice("JALAPENOS", "LEFT"),)))
    assert (error.code, error.field) == ("TOPPING_UNAVAILABLE", "lines[0].toppings[0]")


def test_removing_an_unavailable_topping_is_fine() -> None:
    assert price("pep14", choice("JALAPENOS", amount="NONE")).unit_price == 1499


def test_half_placement_of_a_whole_only_topping_is_refused() -> None:
    error = rule_broken(LineRequest("pep14", 1, (choice("MOZZARELLA", "LEFT", "EXTRA"),)))
    assert (error.code, error.field) == ("WHOLE_ONLY_TOPPING", "lines[0].toppings[0]")


def test_two_sauces_are_refused() -> None:
    error = rule_broken(LineRequest("pep14", 1, (choice("TOMATO"), choice("BBQ"))))
    assert (error.code, error.field) == ("TOO_MANY_SAUCES", "lines[0].toppings[1]")


def test_the_same_topping_twice_on_the_same_half_is_refused() -> None:
    error = rule_broken(LineRequest("pep14", 1, (choice("HAM"), choice("HAM", "LEFT"))))
    assert (error.code, error.field) == ("DUPLICATE_TOPPING", "lines[0].toppings[1]")


def test_ten_portions_fit_but_eleven_do_not() -> None:
    # Defaults: mozzarella 1 + pepperoni 1 (the sauce does not count).
    eight_more = (
        choice("HAM", amount="DOUBLE"),
        choice("BACON", amount="DOUBLE"),
        choice("MUSHROOMS", amount="EXTRA"),
    )
    assert price("pep14", *eight_more).unit_price > 1499
    error = rule_broken(LineRequest("pep14", 1, (*eight_more, choice("ONIONS", "LEFT"))))
    assert (error.code, error.field) == ("TOO_MANY_TOPPINGS", "lines[0].toppings")


def test_toppings_on_a_non_pizza_are_refused() -> None:
    error = rule_broken(OK, LineRequest("knots8", 1, (choice("MUSHROOMS"),)))
    assert (error.code, error.field) == ("NOT_CUSTOMIZABLE", "lines[1].toppings")


def test_cooking_instructions_on_a_non_pizza_are_refused() -> None:
    error = rule_broken(LineRequest("knots8", 1, bake="WELL_DONE"))
    assert (error.code, error.field) == ("NOT_CUSTOMIZABLE", "lines[0].instructions")


def test_a_cart_has_at_most_fifty_lines() -> None:
    error = rule_broken(*[OK] * 51)
    assert (error.code, error.field) == ("TOO_MANY_LINES", "lines")
