from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline.listings.pricing import apply_price_rule, round_price, store_price
from sync_pipeline.stores import Platform, PriceRule

D = Decimal


@pytest.mark.parametrize(
    ("value", "rounding", "expected"),
    [
        ("10.005", "cents", "10.01"),  # half-up, not banker's rounding
        ("10.004", "cents", "10.00"),
        ("10.015", "cents", "10.02"),
        ("10.00005", "none", "10.0001"),  # none: the DB's 4-decimal money scale, half-up
        ("10.20", "99", "10.99"),
        ("10.99", "99", "10.99"),  # already on the ending: unchanged
        ("11.00", "99", "11.99"),  # endings round up, never below the rule's price
        ("10.995", "99", "11.99"),  # cents first (11.00), then up to the ending
        ("0.10", "99", "0.99"),  # below 1
        ("0.10", "95", "0.95"),
        ("10.95", "95", "10.95"),
        ("10.96", "95", "11.95"),
        ("0", "99", "0.00"),  # zero is never lifted to an ending: it stays flagged as not positive
        ("10.50", "whole", "11"),
        ("10.49", "whole", "10"),
        ("0.4", "whole", "0"),
    ],
)
def test_rounding_edges(value: str, rounding: str, expected: str) -> None:
    result = round_price(D(value), rounding, "USD")
    assert result == D(expected)
    assert str(result) == expected  # the scale too, not only the value


@pytest.mark.parametrize("currency", ["IDR", "JPY", "VND", "KRW"])
@pytest.mark.parametrize("rounding", ["none", "cents", "99", "95"])
def test_currencies_without_minor_units_are_always_whole(currency: str, rounding: str) -> None:
    assert round_price(D("15000.50"), rounding, currency) == D("15001")
    assert round_price(D("15000.49"), rounding, currency) == D("15000")


def test_order_fx_then_multiplier_then_add_on_then_rounding_then_clamp() -> None:
    rule = PriceRule(multiplier=D("1.15"), add_on=D("2"), fx_rate=D("1.35"), rounding="cents")
    # 10 x 1.35 = 13.5; x 1.15 = 15.525; + 2 = 17.525 -> 17.53
    assert apply_price_rule(D("10"), rule, Platform.SHOPEE, "SGD") == D("17.53")
    clamped = PriceRule(multiplier=D("1"), rounding="99", min_price=D("5"), max_price=D("12.00"))
    assert apply_price_rule(D("1"), clamped, Platform.SHOPIFY, "USD") == D("5")
    assert apply_price_rule(D("50"), clamped, Platform.SHOPIFY, "USD") == D("12.00")


def test_platform_default_multiplier_applies_when_rule_has_none() -> None:
    rule = PriceRule(rounding="cents")
    assert apply_price_rule(D("10"), rule, Platform.SHOPIFY, "USD") == D("10.00")
    assert apply_price_rule(D("10"), rule, Platform.SHOPEE, "USD") == D("11.50")
    assert apply_price_rule(D("10"), rule, Platform.TIKTOK, "USD") == D("12.00")


def test_negative_add_on_never_gives_a_negative_price() -> None:
    rule = PriceRule(multiplier=D("1"), add_on=D("-50"), rounding="cents")
    assert apply_price_rule(D("10"), rule, Platform.SHOPIFY, "USD") == D("0")


def test_float_is_refused() -> None:
    with pytest.raises(TypeError):
        apply_price_rule(10.0, PriceRule(), Platform.SHOPIFY, "USD")  # type: ignore[arg-type]


def test_special_price_sells_and_regular_is_compare_at_on_shopify() -> None:
    rule = PriceRule(multiplier=D("1"), rounding="cents")
    price = store_price(D("50"), D("40"), rule, Platform.SHOPIFY, "USD")
    assert (price.price, price.compare_at_price) == (D("40.00"), D("50.00"))


def test_compare_at_only_where_the_platform_has_one() -> None:
    rule = PriceRule(rounding="cents")
    price = store_price(D("50"), D("40"), rule, Platform.TIKTOK, "USD")
    assert (price.price, price.compare_at_price) == (D("48.00"), None)


def test_special_not_lower_than_regular_is_ignored() -> None:
    rule = PriceRule(multiplier=D("1"), rounding="cents")
    price = store_price(D("50"), D("55"), rule, Platform.SHOPIFY, "USD")
    assert (price.price, price.compare_at_price) == (D("50.00"), None)


def test_no_compare_at_when_rounding_makes_both_prices_equal() -> None:
    rule = PriceRule(multiplier=D("1"), rounding="99")
    price = store_price(D("10.50"), D("10.20"), rule, Platform.SHOPIFY, "USD")
    assert (price.price, price.compare_at_price) == (D("10.99"), None)


money = st.decimals(min_value=D("0"), max_value=D("100000"), places=4, allow_nan=False, allow_infinity=False)
rules = st.builds(
    PriceRule,
    multiplier=st.decimals(min_value=D("0.01"), max_value=D("5"), places=2),
    add_on=st.decimals(min_value=D("-100"), max_value=D("100"), places=2),
    rounding=st.sampled_from(["none", "cents", "99", "95", "whole"]),
    fx_rate=st.decimals(min_value=D("0.0001"), max_value=D("20000"), places=4),
)


@given(base=money, rule=rules, currency=st.sampled_from(["USD", "EUR", "SGD", "IDR", "JPY"]),
       platform=st.sampled_from(list(Platform)))
def test_prices_are_never_negative_and_rounding_is_exact(base: Decimal, rule: PriceRule, currency: str,
                                                        platform: Platform) -> None:
    price = apply_price_rule(base, rule, platform, currency)
    assert isinstance(price, Decimal)
    assert price >= 0
    if currency in ("IDR", "JPY") or rule.rounding == "whole":
        assert price == price.to_integral_value()
    elif rule.rounding in ("99", "95") and price > 0:
        assert str(price).endswith("." + rule.rounding)
    elif rule.rounding == "cents":
        assert price == price.quantize(D("0.01"))
    # rounding moves a price by less than one unit (endings go up, by less than 1.00)
    raw = base * rule.fx_rate * (rule.multiplier or D(1)) + rule.add_on
    if raw > 1:
        assert abs(price - raw) <= 1


@given(regular=money, special=money, rule=rules)
def test_compare_at_is_always_above_the_selling_price(regular: Decimal, special: Decimal, rule: PriceRule) -> None:
    price = store_price(regular, special, rule, Platform.SHOPIFY, "USD")
    assert price.compare_at_price is None or price.compare_at_price > price.price
    assert price == store_price(regular, special, rule, Platform.SHOPIFY, "USD")  # deterministic
