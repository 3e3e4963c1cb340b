"""A small generated catalog (every showcase feature and dirty row) on SQLite and on MariaDB, in
Magento Open Source's layout and in Adobe Commerce's staging layout (``edition.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from sync_pipeline.db import make_engine
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.edition import sequence_product
from sync_pipeline.magento.generator import GeneratedCatalog, generate_catalog
from sync_pipeline.magento.reader import MagentoCatalogReader
from sync_pipeline.magento.records import ProductChunk, RejectedRow, SourceProduct

TODAY = date(2025, 6, 1)
SMALL = 60  # enough for the whole clean and dirty showcase plus some random products


@dataclass
class Shop:
    engine: sa.Engine
    catalog: GeneratedCatalog

    @property
    def commerce(self) -> bool:
        return self.catalog.commerce

    def add_entities(self, rows: list[dict[str, object]]) -> None:
        """Insert bare catalog_product_entity rows by entity id (Commerce: with their sequence values)."""
        with self.engine.begin() as conn:
            if self.commerce:
                conn.execute(sa.insert(sequence_product), [{"sequence_value": r["entity_id"]} for r in rows])
            conn.execute(sa.insert(m.catalog_product_entity), rows)

    def reader(self, **kwargs: object) -> MagentoCatalogReader:
        kwargs.setdefault("today", TODAY)
        return MagentoCatalogReader(self.engine, **kwargs)  # type: ignore[arg-type]


def full_pass(reader: MagentoCatalogReader, **kwargs: int) -> list[ProductChunk]:
    return list(reader.iter_products(after_id=kwargs.pop("after_id", 0), limit=kwargs.pop("limit", None),
                                     **kwargs))


def found(chunks: list[ProductChunk]) -> dict[int, SourceProduct]:
    return {p.source_id: p for chunk in chunks for p in chunk.products}


def rejected(chunks: list[ProductChunk]) -> dict[int, RejectedRow]:
    return {r.source_id: r for chunk in chunks for r in chunk.rejected}


@pytest.fixture
def engine(magento_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(magento_db_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["open_source", "commerce"])
def edition(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shop(engine: sa.Engine, edition: str) -> Shop:
    return Shop(engine, generate_catalog(engine, products=SMALL, seed=11, dirty=True, today=TODAY,
                                         commerce=edition == "commerce"))
