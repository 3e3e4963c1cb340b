"""Store prices from catalog prices: one rule per store, Decimal arithmetic only.

The order of operations (each step documented at its edges in the tests):

1. **fx**: ``base x fx_rate`` converts the catalog currency into the store's currency.
2. **markup**: ``x multiplier + add_on``; the add-on is an amount in the *store's* currency.
3. **rounding** (``PriceRule.rounding``):

   * ``none``  – kept at the app DB's money scale (4 decimals, half-up), so what is stored is
     exactly what was computed and the pricing check can compare without tolerance;
   * ``cents`` – 2 decimals, half-up (10.005 -> 10.01, 10.004 -> 10.00);
   * ``99`` / ``95`` – first to cents (half-up), then *up* to the nearest price ending in .99 / .95
     (10.20 -> 10.99, 10.99 -> 10.99, 11.00 -> 11.99, 0.10 -> 0.99). Rounding up rather than to
     the nearest ending means a charm price never sells below what the rule asked for;
   * ``whole`` – whole units, half-up (10.50 -> 11, 10.49 -> 10).

   Currencies without minor units (JPY, KRW, VND, IDR, ...) are always rounded to whole units,
   whatever the rule says: a .99 ending has no meaning there and the platforms reject decimals.
   A price at or below zero is never pushed up to an ending: it stays (rounded) so that the
   listing is flagged as "price not positive" instead of being sold at 0.99.
4. **clamp**: ``min_price`` / ``max_price`` (store currency) bound the rounded price as written.
5. **floor at zero**: a negative add-on can never produce a negative price.

A product on special price sells at ``rule(special)`` and shows ``rule(regular)`` as its
compare-at price, but only where the platform has one and only while it is still higher
after rounding (two prices rounded to the same .99 ending are not a discount).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sync_pipeline.money import MONEY_SCALE
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.spec import Platform
from sync_pipeline.stores import PriceRule, StoreConfig

CENT = Decimal("0.01")
WHOLE = Decimal("1")
ZERO = Decimal("0")

# ISO 4217 currencies with no minor unit, plus IDR, which has one on paper but is never priced in it.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "IDR", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


@dataclass(frozen=True)
class StorePrice:
    price: Decimal  # what the customer pays
    compare_at_price: Decimal | None  # the struck-through regular price, while on special


def apply_price_rule(base: Decimal, rule: PriceRule, platform: Platform, currency: str) -> Decimal:
    """One catalog amount converted, marked up, rounded, clamped and floored at zero."""
    if not isinstance(base, Decimal):
        raise TypeError(f"prices are Decimal, never {type(base).__name__}")
    multiplier = rule.multiplier if rule.multiplier is not None else platform_spec(platform).default_multiplier
    marked_up = base * rule.fx_rate * multiplier + rule.add_on
    rounded = round_price(marked_up, rule.rounding, currency)
    clamped = _clamp(rounded, rule.min_price, rule.max_price)
    return max(clamped, ZERO)


def round_price(value: Decimal, rounding: str, currency: str) -> Decimal:
    """``value`` rounded as the rule says (see the module docstring for every edge)."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES or rounding == "whole":
        return value.quantize(WHOLE, rounding=ROUND_HALF_UP)
    if rounding == "none":
        return value.quantize(MONEY_SCALE, rounding=ROUND_HALF_UP)
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounding == "cents":
        return cents
    if rounding in ("99", "95"):
        return _up_to_ending(cents, Decimal("0." + rounding))
    raise ValueError(f"unknown rounding '{rounding}' (expected none, cents, 99, 95 or whole)")


def store_price(
    regular: Decimal, special: Decimal | None, rule: PriceRule, platform: Platform, currency: str
) -> StorePrice:
    """Selling and compare-at price of one variant; the special price wins while it is lower."""
    if special is None or special >= regular:
        return StorePrice(apply_price_rule(regular, rule, platform, currency), None)
    selling = apply_price_rule(special, rule, platform, currency)
    if not platform_spec(platform).has_compare_at_price:
        return StorePrice(selling, None)
    was = apply_price_rule(regular, rule, platform, currency)
    return StorePrice(selling, was if was > selling else None)


def price_for_store(regular: Decimal, special: Decimal | None, store: StoreConfig) -> StorePrice:
    return store_price(regular, special, store.price_rule, store.platform, store.currency)


def _up_to_ending(cents: Decimal, ending: Decimal) -> Decimal:
    """The smallest amount >= ``cents`` whose fractional part is ``ending`` (e.g. .99)."""
    if cents <= ZERO:
        return cents
    whole_part = (cents - ending).quantize(WHOLE, rounding=ROUND_CEILING)
    return whole_part + ending


def _clamp(value: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value
