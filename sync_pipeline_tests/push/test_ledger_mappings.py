"""The mapping upsert of confirmed products (``ledger.write_confirmed``) on a real app DB."""

from __future__ import annotations

from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.platforms.base import RemoteRef
from sync_pipeline.push import ledger
from sync_pipeline.push.plan import MappingStatus, PushedHashes
from sync_pipeline_tests.push.test_push_sandbox import db  # noqa: F401 - fixture


def confirmed(sku: str, product_id: str, payload_hash: str) -> ledger.Confirmed:
    hashes = PushedHashes("c" * 64, "p" * 64, "s" * 64, payload_hash)
    return ledger.Confirmed(sku, RemoteRef(product_id, {sku: f"{product_id}-v"}), MappingStatus.LISTED, hashes,
                            {"sku": sku}, utcnow())


def test_one_batch_naming_a_sku_twice_keeps_the_later_confirmation(db: Engine) -> None:  # noqa: F811
    # A batched upsert cannot touch one row twice (Postgres refuses the statement): the rows are
    # deduplicated, the later one winning as it would row by row; on new rows and on existing ones.
    for round_ in ("new", "existing"):
        with db.begin() as conn:
            ledger.write_confirmed(conn, "st", "run-1", [
                confirmed("A", f"gid://shopify/Product/1-{round_}", "a1"),
                confirmed("B", f"gid://shopify/Product/2-{round_}", "b1"),
                confirmed("A", f"gid://shopify/Product/3-{round_}", "a2"),
            ])
        mappings = ledger.load_mappings(db, "st")
        assert sorted(mappings) == ["A", "B"]
        assert (mappings["A"].external_id, mappings["A"].payload_hash) == (f"gid://shopify/Product/3-{round_}", "a2")
        assert dict(mappings["A"].external_variant_ids) == {"A": f"gid://shopify/Product/3-{round_}-v"}
        assert mappings["B"].external_id == f"gid://shopify/Product/2-{round_}"
