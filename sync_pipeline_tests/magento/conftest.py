"""A small generated catalog (every showcase feature and dirty row) on SQLite and on MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from sync_pipeline.db import make_engine
from sync_pipeline.magento.generator import GeneratedCatalog, generate_catalog
from sync_pipeline.magento.reader import MagentoCatalogReader
from sync_pipeline.magento.records import ProductChunk, RejectedRow, SourceProduct

TODAY = date(2025, 6, 1)
SMALL = 60  # enough for the whole clean and dirty showcase plus some random products


@dataclass
class Shop:
    engine: sa.Engine
    catalog: GeneratedCatalog

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


@pytest.fixture
def shop(engine: sa.Engine) -> Shop:
    return Shop(engine, generate_catalog(engine, products=SMALL, seed=11, dirty=True, today=TODAY))
