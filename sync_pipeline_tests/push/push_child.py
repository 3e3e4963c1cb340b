"""A push of one store in its own process, for tests that kill it: ``python -m
sync_pipeline_tests.push.push_child DB_URL STORES_FILE STORE_KEY``."""

from __future__ import annotations

import sys

from sync_pipeline.db import make_engine
from sync_pipeline.platforms.base import CallObserver, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.engine import PushOptions, push_store
from sync_pipeline.stores import load_stores


def main(db_url: str, stores_file: str, store_key: str) -> None:
    engine = make_engine(db_url)
    store = load_stores(stores_file).by_key(store_key)

    def factory(observer: CallObserver) -> StoreClient:
        return build_client(store, DbTokenStore(engine), observer=observer)

    # Small flushes so that confirmations reach the DB while the test watches.
    report = push_store(engine, store, factory, PushOptions(flush_every=5, flush_seconds=0.2, workers=4))
    print(report.progress.describe(), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
