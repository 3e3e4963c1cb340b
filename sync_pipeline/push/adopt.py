"""Adopt a store's existing products: for owners who already sell on a store before the pipeline.

Without it the first push would create every product a second time. ``adopt_store_listings``
reads every product on the store (``StoreClient.store_products``), matches each to the store's
listings by SKU (a product's variant SKUs or its parent SKU against a listing's), and records a
mapping row for each match, so the next push *updates* the merchant's product. It writes nothing
to the store.

Each adopted product's state as read is kept as an ``adopt`` rollback snapshot of this job's run.
The first push over an adopted product copies it into its own snapshots, so rolling that push back
(``rollback_push``) gives the merchant their product back as it was (where the platform's client
can restore a product: Shopify), instead of deleting it.

What the report lists: ``matched`` (recorded now), ``already_mapped``, ``unmatched_on_store``
(products no listing claims: left alone), ``unmatched_in_catalog`` (listings with no store product:
the next push creates them) and ``conflicts``: a listing found on two store products, or a store
product carrying the SKUs of two listings. Conflicts are never recorded; a person decides.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.platforms.base import CallObserver, RemoteProduct, StoreClient
from sync_pipeline.push import ledger
from sync_pipeline.push.guard import StorePushGuard
from sync_pipeline.push.ledger import Confirmed
from sync_pipeline.push.plan import MappingStatus
from sync_pipeline.push.synclog import SyncLog
from sync_pipeline.stores import StoreConfig

MAX_LISTED = 50  # names kept per list in the report; the counts are exact


@dataclass
class AdoptionReport:
    store_key: str
    run_id: str
    store_products: int = 0
    matched: dict[str, str] = field(default_factory=dict)  # SKU -> store product id, recorded now
    already_mapped: list[str] = field(default_factory=list)
    unmatched_on_store: list[str] = field(default_factory=list)  # "product id (SKUs)"
    unmatched_in_catalog: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (f"adoption on {self.store_key}: {self.store_products} store products read, "
                f"{len(self.matched)} matched and recorded, {len(self.already_mapped)} already mapped, "
                f"{len(self.unmatched_on_store)} on the store only, {len(self.unmatched_in_catalog)} in the catalog "
                f"only, {len(self.conflicts)} conflicts")


def adopt_store_listings(engine: Engine, store: StoreConfig, client_factory: Callable[[CallObserver], StoreClient],
                         *, run_id: str | None = None) -> AdoptionReport:
    run_id = run_id or f"adopt-{uuid.uuid4().hex}"
    report = AdoptionReport(store.key, run_id)
    listings = [listing for listing in ledger.load_listings(engine, store.key) if listing.sku]
    owner_of: dict[str, str] = {}
    for listing in listings:
        for sku in {listing.sku, *(v.sku for v in listing.variants)}:
            owner_of[_key(sku)] = listing.sku
    sync_log = SyncLog(engine, run_id, store.key)
    with StorePushGuard(engine, store.key, run_id):
        ledger.start_run(engine, run_id, store.key, "adopt", {})
        mappings = ledger.load_mappings(engine, store.key)
        found: dict[str, list[RemoteProduct]] = defaultdict(list)
        client = client_factory(sync_log)
        try:
            for remote in client.store_products():
                report.store_products += 1
                skus = sorted({remote.sku, *(v.sku for v in remote.variants)} - {""})
                owners = sorted({owner_of[_key(s)] for s in skus if _key(s) in owner_of})
                if not owners:
                    report.unmatched_on_store.append(f"{remote.ref.product_id} ({', '.join(skus) or 'no SKU'})")
                elif len(owners) > 1:
                    report.conflicts.append(f"store product {remote.ref.product_id} carries SKUs of "
                                            f"{', '.join(owners)}")
                else:
                    found[owners[0]].append(remote)
            adopted: dict[str, RemoteProduct] = {}
            for sku, remotes in sorted(found.items()):
                mapping = mappings.get(sku)
                ids = [r.ref.product_id for r in remotes]
                if len(remotes) > 1:
                    report.conflicts.append(f"{sku} is on {len(remotes)} store products: {', '.join(ids)}")
                elif mapping is not None and mapping.ref is not None:
                    if mapping.ref.product_id == ids[0]:
                        report.already_mapped.append(sku)
                    else:
                        report.conflicts.append(f"{sku} is mapped to {mapping.ref.product_id} but the store also "
                                                f"has it as {ids[0]}")
                else:
                    adopted[sku] = client.restorable(remotes[0])
        finally:
            client.close()
            sync_log.flush()
        now = utcnow()
        with engine.begin() as conn:
            ledger.write_confirmed(conn, store.key, run_id, [
                Confirmed(sku, remote.ref, MappingStatus.LISTED if remote.status == "active" else MappingStatus.DELISTED,
                          None, None, now)
                for sku, remote in adopted.items()])
            ledger.write_adoption_snapshots(conn, store.key, run_id, adopted)
        report.matched = {sku: remote.ref.product_id for sku, remote in adopted.items()}
        on_store = set(found) | set(report.already_mapped)
        report.unmatched_in_catalog = sorted(
            listing.sku for listing in listings
            if listing.sku not in on_store and not (mappings.get(listing.sku) and mappings[listing.sku].ref))
        ledger.finish_run(engine, run_id, store.key, "adopt", "succeeded", {
            "store_products": report.store_products, "matched": len(report.matched),
            "already_mapped": len(report.already_mapped), "unmatched_on_store": len(report.unmatched_on_store),
            "unmatched_in_catalog": len(report.unmatched_in_catalog), "conflicts": len(report.conflicts)})
    return report


def _key(sku: str) -> str:
    return sku.strip().casefold()
