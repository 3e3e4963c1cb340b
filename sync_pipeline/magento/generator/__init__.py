"""A demo/test Magento 2.4 catalog, written into the real EAV tables the way a real install has it.

What a real shop has and this generator reproduces:

* stores: admin (0), ``default`` (1) and a second store view ``fr`` (2) on website ``base``;
  entity types 3 (category) and 4 (product); attribute sets; attributes inserted like setup code
  does (ids come from the database and are looked up by code, never assumed);
* simple products (one whose stock is not managed), configurable parents whose simple children
  carry ``size`` and ``color`` options and are not visible individually; with ``dirty=True`` also
  virtual, bundle, grouped and downloadable products, which the pipeline counts but does not sync;
* ``material`` (multiselect, option ids in ``_text``) and ``activity`` (an older multiselect still
  kept in ``_varchar``, as installs upgraded from before 2.4.4 have); ``fabric_composition``, a
  user-defined plain-text attribute on apparel (with a store-view value on the showcase tank);
* store-view overrides of name, price and status; store-view option and category labels;
* stock items with qty / is_in_stock / manage_stock flags; a category tree under
  "Default Category"; a media gallery with positions, hidden images and the base ``image`` role;
  special prices with active, expired and future windows; ``web/unsecure/base_url``.

About 10% of the top-level products are sellable (enabled and in stock), like a shop that keeps
old products disabled. The first products of every catalog are a fixed *showcase*: each shows one
feature (``GeneratedCatalog.features`` names them) so tests can find them at any size. With
``dirty=True`` a second showcase of bad rows follows (``GeneratedCatalog.dirty``).

Over-long names: ``name`` is varchar(255) and MariaDB in strict mode refuses longer values, as
Magento's own validation does; so the "long name" dirty row has a name of exactly 255 characters
(ending in an emoji, i.e. 4-byte UTF-8) and a 1,000-character ``meta_keyword`` (a text attribute).

Everything is deterministic for a given ``seed`` and ``today``. ``commerce=True`` writes the same
catalog in Adobe Commerce's staging shape (``commerce.py``): same current values, plus
past and scheduled versions of some products.

The package, by concern: ``design.py`` (stores, attributes, options, category tree),
``install.py`` (what Magento's installer writes before any product), ``plans.py`` (what each
product is: the random catalog), ``showcase.py`` and ``dirty.py`` (the fixed showcases),
``writer.py`` (plans to EAV, gallery, stock and MSI rows), ``commerce.py`` (Adobe Commerce's
staging layout); this module runs them in order and bulk-loads the rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from sync_pipeline.magento import edition
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator.commerce import CommerceRows, install_staging
from sync_pipeline.magento.generator.design import BASE_URL, MEDIA_BASE_URL
from sync_pipeline.magento.generator.dirty import DIRTY_SHOWCASE
from sync_pipeline.magento.generator.install import install_base, install_msi
from sync_pipeline.magento.generator.plans import Plan, random_plan
from sync_pipeline.magento.generator.showcase import MSI_SHOWCASE, SHOWCASE
from sync_pipeline.magento.generator.writer import CatalogWriter

__all__ = ["GeneratedCatalog", "generate_catalog"]

@dataclass(frozen=True)
class GeneratedCatalog:
    """What was generated, with the facts tests need to check a reader against.

    ``sellable_ids``: top-level products the import rule accepts in store view ``default``
    (enabled there, on the website, in stock; a configurable with a sellable child), including
    the dirty ones the reader must turn into rejections (``expected_rejections``: id -> dirty kind).
    ``features``/``dirty``: showcase name -> the top-level source ids showing it.
    """

    products: int
    children: int
    entities: int
    seed: int
    today: date
    candidate_ids: tuple[int, ...]
    child_ids: frozenset[int]
    sellable_ids: frozenset[int]
    features: dict[str, tuple[int, ...]]
    dirty: dict[str, tuple[int, ...]]
    expected_rejections: dict[int, str]
    unsynced_types: dict[str, int] = field(default_factory=dict)  # bundle/grouped/... written, by type
    commerce: bool = False  # written in Adobe Commerce's staging shape
    staged_ids: tuple[int, ...] = ()  # Commerce: entities with a past and a scheduled version too
    base_url: str = BASE_URL
    media_base_url: str = MEDIA_BASE_URL

    def feature(self, name: str) -> int:
        """The first product that shows a showcase feature (clean or dirty)."""
        ids = self.features.get(name) or self.dirty.get(name)
        if not ids:
            raise KeyError(f"no product shows {name!r}; the catalog may be too small for the showcase")
        return ids[0]



def generate_catalog(
    engine: sa.Engine,
    *,
    products: int,
    seed: int,
    dirty: bool = False,
    today: date | None = None,
    replace: bool = False,
    msi: bool = False,
    commerce: bool = False,
) -> GeneratedCatalog:
    """Create the Magento tables and fill them with ``products`` top-level products.

    ``msi=True`` also writes Multi-Source Inventory: sources (one disabled), a second stock for a
    second website ``eu`` (store view ``eu``), a source item per stocked product in the default
    source (mirroring the legacy table, as Magento does) and the ``MSI_SHOWCASE`` products with
    several sources and reservations of placed, shipped and cancelled orders. ``commerce=True``
    writes Adobe Commerce's staging tables (``row_id``, versions) instead of Open Source's.
    """
    if products < 0:
        raise ValueError(f"products must be >= 0, got {products}")
    today = today or date.today()
    if replace:
        m.drop_magento_schema(engine)
    if commerce:
        edition.create_commerce_schema(engine, msi=msi)
    else:
        m.create_magento_schema(engine, msi=msi)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(m.store)).scalar_one():
            raise ValueError("the Magento database already holds a catalog; use an empty one (or replace=True)")
        install = install_base(conn, today, commerce=commerce)
        if msi:
            install_msi(conn)
        rng = random.Random(seed)
        plans = _plan_catalog(rng, products, dirty)
        if msi:
            plans += [plan for n, factory in enumerate(MSI_SHOWCASE) for plan in factory(rng, 950 + n)]
        staged = CommerceRows(install.attr, install_staging(conn, today)) if commerce else None
        writer = CatalogWriter(conn, install, rng, today, msi=msi, commerce=staged)
        with _bulk_load(conn):
            for plan in plans:
                writer.write(plan)
            writer.flush_all()
    return _summary(writer, products=len(plans), seed=seed)


@contextmanager
def _bulk_load(conn: sa.Connection) -> Iterator[None]:
    """On MySQL/MariaDB, skip per-row key checks while loading (as mysqldump files do): the
    generator's rows are consistent by construction, and the checks triple the server time."""
    on_mysql = conn.dialect.name in ("mysql", "mariadb")
    if on_mysql:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    try:
        yield
    finally:
        if on_mysql:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1, unique_checks = 1")



def _plan_catalog(rng: random.Random, products: int, dirty: bool) -> list[Plan]:
    showcase = [factory(rng, n) for n, factory in enumerate(SHOWCASE)]
    if dirty:
        showcase += [plan for n, factory in enumerate(DIRTY_SHOWCASE) for plan in factory(rng, 900 + n)]
    plans = showcase[:products]
    plans += [random_plan(rng, n) for n in range(len(plans), products)]
    return plans


def _summary(writer: CatalogWriter, *, products: int, seed: int) -> GeneratedCatalog:
    return GeneratedCatalog(
        products=products, children=len(writer.child_ids), entities=writer.next_entity_id - 1, seed=seed,
        today=writer.today, candidate_ids=tuple(writer.candidate_ids), child_ids=frozenset(writer.child_ids),
        sellable_ids=frozenset(writer.sellable),
        features={k: tuple(v) for k, v in writer.features.items()},
        dirty={k: tuple(v) for k, v in writer.dirty.items()},
        expected_rejections=dict(writer.rejections), unsynced_types=dict(writer.unsynced),
        commerce=writer.commerce is not None,
        staged_ids=tuple(writer.commerce.staged_ids) if writer.commerce is not None else (),
    )
