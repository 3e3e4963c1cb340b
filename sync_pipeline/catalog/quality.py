"""Data-quality rules of the normalized catalog, as queries that name the offending SKUs.

Each rule returns how many products break it and a few of their SKUs; the Dagster checks on
``catalog_products`` report them. The image rules follow the seed's validation: at least one
image is required, three or more are expected.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select, union

from sync_pipeline.catalog.tables import catalog_products as products
from sync_pipeline.catalog.tables import catalog_variants as variants
from sync_pipeline.checks import CheckOutcome

SAMPLE_SIZE = 20
MIN_IMAGES = 1
EXPECTED_IMAGES = 3


def duplicate_skus(conn: Connection) -> CheckOutcome:
    """SKUs that differ only by case or surrounding spaces, across products and variants: a store
    would see them as one SKU while the catalog holds two.

    The unique constraints catch exact repeats within one table; this catches the rest.
    """
    # Exact repeats are one SKU sold in several products (a child shared by two configurables, or
    # also sold on its own), which Magento allows: UNION keeps each exact SKU once.
    every_sku = union(select(products.c.sku), select(variants.c.sku)).subquery()
    sku_key = func.lower(func.trim(every_sku.c.sku)).label("sku_key")
    repeated = select(sku_key).group_by(sku_key).having(func.count() > 1).order_by(sku_key)
    keys = [row.sku_key for row in conn.execute(repeated)]
    return CheckOutcome(failures=len(keys), examples=keys[:SAMPLE_SIZE])


def active_products_incomplete(conn: Connection) -> CheckOutcome:
    """Active products that cannot be sold as they are: no price above 0, no title, negative stock, no variant."""
    has_variant = exists().where(variants.c.parent_sku == products.c.sku)
    broken = and_(
        products.c.is_active.is_(True),
        or_(
            products.c.price.is_(None),
            products.c.price <= 0,
            func.trim(products.c.title) == "",
            products.c.stock_qty < 0,
            ~has_variant,
        ),
    )
    return _rule(conn, broken)


def active_products_with_images_below(conn: Connection, minimum: int) -> CheckOutcome:
    """Active products with fewer than ``minimum`` images (counted in Python: JSON length is not portable)."""
    count = 0
    sample: list[str] = []
    for sku, images in _active_images(conn):
        if len(images or []) < minimum:
            count += 1
            if len(sample) < SAMPLE_SIZE:
                sample.append(sku)
    return CheckOutcome(failures=count, examples=sample)


def _active_images(conn: Connection) -> Iterator[tuple[str, list[str]]]:
    result = conn.execution_options(yield_per=2000).execute(
        select(products.c.sku, products.c.images).where(products.c.is_active.is_(True)).order_by(products.c.sku)
    )
    for row in result:
        yield row.sku, row.images


def _rule(conn: Connection, condition: ColumnElement[bool]) -> CheckOutcome:
    count = int(conn.execute(select(func.count()).select_from(products).where(condition)).scalar_one())
    sample = [row.sku for row in conn.execute(
        select(products.c.sku).where(condition).order_by(products.c.sku).limit(SAMPLE_SIZE))]
    return CheckOutcome(failures=count, examples=sample)
