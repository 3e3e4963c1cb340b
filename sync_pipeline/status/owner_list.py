"""The owner's product list: one row per SKU with the master price, every store's price and state,
problems first; and the counts per state, per product and per product-on-a-store.

Built with pandas because the report is a table to sort, count and print: ``sort_values`` puts
problems first, ``crosstab`` makes the counts and ``to_string`` prints the command line's table
with its header. The same frame feeds the ``product_status`` asset's table metadata and
``sync-pipeline status --search``, so both show the same columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import pandas as pd

from sync_pipeline.status.report import ProductState, SyncState

# Worst first: a product's rank is that of its worst store, so errors lead the list.
STATE_RANK = {SyncState.ERROR: 0, SyncState.INVALID: 1, SyncState.NOT_SYNCED: 2, SyncState.DELISTED: 3,
              SyncState.SYNCED: 4}
TITLE_WIDTH = 40


def price_column(store_key: str) -> str:
    return f"{store_key} price"


def state_column(store_key: str) -> str:
    return f"{store_key} state"


def owner_columns(store_keys: Sequence[str]) -> list[str]:
    """SKU, title, master price, one price column per store, then one state column per store."""
    return (["sku", "title", "master price"] + [price_column(k) for k in store_keys]
            + [state_column(k) for k in store_keys])


def worst_state(product: ProductState) -> SyncState:
    return min((s.state for s in product.stores), key=STATE_RANK.__getitem__, default=SyncState.SYNCED)


def owner_frame(states: Iterable[ProductState], store_keys: Sequence[str]) -> pd.DataFrame:
    """The list as a DataFrame, problems first (worst store state, then SKU); prices are text
    ("12.50 SGD", "-" when the store has no listing) so the table prints as the owner reads it."""
    rows = []
    for product in states:
        by_key = {s.store_key: s for s in product.stores}
        row: dict[str, object] = {"sku": product.sku, "title": product.title,
                                  "master price": _money(product.master_price, None),
                                  "_rank": STATE_RANK[worst_state(product)]}
        for key in store_keys:
            store = by_key.get(key)
            row[price_column(key)] = _money(store.price, store.currency) if store else "-"
            row[state_column(key)] = store.state.value if store else "-"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*owner_columns(store_keys), "_rank"])
    frame = frame.sort_values(["_rank", "sku"], kind="stable").drop(columns="_rank")
    return frame.reset_index(drop=True)


def product_counts(frame: pd.DataFrame, store_keys: Sequence[str]) -> dict[str, int]:
    """Products per worst state: each product counted once, by the worst of its stores."""
    if frame.empty:
        return {state.value: 0 for state in SyncState}
    worst = frame[[state_column(k) for k in store_keys]].apply(
        lambda row: min((SyncState(v) for v in row if v != "-"), key=STATE_RANK.__getitem__,
                        default=SyncState.SYNCED).value, axis=1)
    counted = worst.value_counts()
    return {state.value: int(counted.get(state.value, 0)) for state in SyncState}


def store_counts(frame: pd.DataFrame, store_keys: Sequence[str]) -> pd.DataFrame:
    """Products on each store per state (rows: stores, columns: every state, zeros kept)."""
    long = frame.melt(id_vars=["sku"], value_vars=[state_column(k) for k in store_keys],
                      var_name="store", value_name="state")
    long["store"] = long["store"].str.removesuffix(" state")
    table = pd.crosstab(long["store"], long["state"])
    table = table.reindex(index=list(store_keys), columns=[s.value for s in SyncState], fill_value=0)
    table.index.name = "store"
    table.columns.name = None
    return table


def printable(frame: pd.DataFrame) -> str:
    """The list as the command line prints it: a header, titles cut to ``TITLE_WIDTH``."""
    shown = frame.copy()
    shown["title"] = shown["title"].map(lambda t: t if len(t) <= TITLE_WIDTH else t[: TITLE_WIDTH - 1] + "…")
    return shown.to_string(index=False)


def _money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "-"
    cents = value.quantize(Decimal("0.01"))
    shown = cents if cents == value else value.normalize()  # 57.9900 -> 57.99; 0.125 stays exact
    return f"{shown} {currency}" if currency else f"{shown}"
