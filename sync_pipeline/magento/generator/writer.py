"""Turns plans into the EAV, gallery, link, stock and MSI rows, buffered and bulk-inserted."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator.commerce import CommerceRows
from sync_pipeline.magento.generator.design import (
    ADMIN_STORE,
    BATCH_ROWS,
    DEFAULT_STORE,
    FR_STORE,
    NOT_VISIBLE,
    STATUS_DISABLED,
    STATUS_ENABLED,
    UNSYNCED_KINDS,
    VISIBLE_BOTH,
)
from sync_pipeline.magento.generator.install import Install
from sync_pipeline.magento.generator.plans import Child, Plan

# Insert order that satisfies the foreign keys.
WRITE_ORDER = (
    m.catalog_product_entity, m.catalog_product_entity_varchar, m.catalog_product_entity_int,
    m.catalog_product_entity_decimal, m.catalog_product_entity_text, m.catalog_product_entity_datetime,
    m.catalog_product_website, m.catalog_product_super_attribute, m.catalog_product_super_link,
    m.catalog_product_relation, m.catalog_category_product, m.catalog_product_entity_media_gallery,
    m.catalog_product_entity_media_gallery_value, m.catalog_product_entity_media_gallery_value_to_entity,
    m.cataloginventory_stock_item,
)


# --- writing ------------------------------------------------------------------------------------


class CatalogWriter:
    """Turns plans into rows and inserts them in executemany batches, in foreign-key order."""

    def __init__(self, conn: sa.Connection, install: Install, rng: random.Random, today: date,
                 msi: bool = False, commerce: CommerceRows | None = None) -> None:
        self.conn, self.install, self.rng, self.today, self.msi = conn, install, rng, today, msi
        self.commerce = commerce
        self.attr = install.attr
        self.write_order = WRITE_ORDER + ((m.inventory_source_item, m.inventory_reservation) if msi else ())
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {table: [] for table in self.write_order}
        self.pending = 0
        self.next_entity_id = 1
        self.next_gallery_id = 1
        self.next_link_id = 1
        self.source_item_keys: set[tuple[str, str]] = set()
        self.candidate_ids: list[int] = []
        self.child_ids: set[int] = set()
        self.sellable: set[int] = set()
        self.features: dict[str, list[int]] = {}
        self.dirty: dict[str, list[int]] = {}
        self.rejections: dict[int, str] = {}
        self.children_of: dict[str, list[int]] = {}
        self.unsynced: dict[str, int] = {}

    # public

    def write(self, plan: Plan) -> None:
        child_ids = [self._write_child(plan, child) for child in plan.children]
        self.children_of[plan.sku] = child_ids
        if plan.shares_first_child_of:
            child_ids = [*child_ids, self.children_of[plan.shares_first_child_of][0]]
        entity_id = self._write_top_level(plan, child_ids)
        if plan.kind in UNSYNCED_KINDS:
            self.unsynced[plan.kind] = self.unsynced.get(plan.kind, 0) + 1
        else:
            self.candidate_ids.append(entity_id)
        if plan.is_sellable(self.msi):
            self.sellable.add(entity_id)
            if plan.dirty_kind:
                self.rejections[entity_id] = plan.dirty_kind
        for tag in plan.tags:
            self.features.setdefault(tag, []).append(entity_id)
        for tag in plan.dirty_tags:
            self.dirty.setdefault(tag, []).append(entity_id)
        if self.pending >= BATCH_ROWS:
            self.flush_all()

    def flush_all(self) -> None:
        batches = [(table, self.buffers[table]) for table in self.write_order if self.buffers[table]]
        if self.commerce is not None:
            batches = self.commerce.translate(batches)
        for table, rows in batches:
            self.conn.execute(table.insert(), rows)
        self.buffers = {table: [] for table in self.write_order}
        self.pending = 0

    # rows

    def _add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.pending += 1

    def _value(self, backend: str, entity_id: int, code: str, value: Any, store_id: int = ADMIN_STORE) -> None:
        table = m.PRODUCT_VALUE_TABLES[backend]
        self._add(table, {"entity_id": entity_id, "attribute_id": self.attr[code], "store_id": store_id,
                          "value": value})

    def _new_entity(self, plan: Plan, sku: str, type_id: str) -> int:
        entity_id = self.next_entity_id
        self.next_entity_id += 1
        created = datetime.combine(self.today, time(9)) - timedelta(days=self.rng.randint(30, 1500),
                                                                    minutes=self.rng.randint(0, 600))
        updated = created + timedelta(days=self.rng.randint(0, 29))
        sets = self.install.attribute_sets
        leaf_kind = plan.leaf.split("/")[-1] if plan.leaf else "Default"
        attribute_set = sets.get(leaf_kind, sets["Gear"])
        self._add(m.catalog_product_entity, {
            "entity_id": entity_id, "attribute_set_id": attribute_set, "type_id": type_id, "sku": sku,
            "has_options": int(type_id == "configurable"), "required_options": int(type_id == "configurable"),
            "created_at": created, "updated_at": updated,
        })
        if plan.on_website:
            self._add(m.catalog_product_website, {"product_id": entity_id, "website_id": 1})
        return entity_id

    def _write_child(self, plan: Plan, child: Child) -> int:
        sku = f"{plan.sku}-{child.size}-{child.color}"
        entity_id = self._new_entity(plan, sku, "simple")
        self.child_ids.add(entity_id)
        self._value("varchar", entity_id, "name", f"{plan.name}-{child.size}-{child.color}")
        self._value("varchar", entity_id, "url_key", _slug(f"{plan.name} {child.size} {child.color} {sku}"))
        self._value("int", entity_id, "status", STATUS_ENABLED if child.enabled else STATUS_DISABLED)
        self._value("int", entity_id, "visibility", NOT_VISIBLE)
        self._value("int", entity_id, "tax_class_id", 2)
        self._value("int", entity_id, "size", self.install.options["size"][child.size])
        self._value("int", entity_id, "color", self.install.options["color"][child.color])
        if child.price is not None:
            self._value("decimal", entity_id, "price", child.price)
        self._value("decimal", entity_id, "weight", Decimal("0.5"))
        if child.has_image:
            self._gallery(entity_id, sku, 1, plan=None)
        if child.stock_row:
            self._stock(entity_id, qty=child.qty, in_stock=child.qty > 0, manage=True, sku=sku)
        return entity_id

    def _write_top_level(self, plan: Plan, child_ids: list[int]) -> int:
        entity_id = self._new_entity(plan, plan.sku, plan.kind)
        self._texts(entity_id, plan)
        self._status_and_visibility(entity_id, plan)
        self._prices(entity_id, plan)
        self._options(entity_id, plan)
        if plan.leaf:
            self._add(m.catalog_category_product, {"entity_id": self._link_id(),
                                                   "category_id": self.install.category_ids[plan.leaf],
                                                   "product_id": entity_id, "position": 0})
        self._gallery(entity_id, plan.sku, plan.images, plan=plan)
        if plan.kind == "configurable":
            self._configurable_links(entity_id, child_ids)
            self._stock(entity_id, qty=0, in_stock=True, manage=True, sku=None)
        else:
            self._stock(entity_id, qty=plan.qty, in_stock=plan.in_stock_flag, manage=plan.manage_stock,
                        sku=plan.sku, min_qty=plan.min_qty)
        if self.msi:
            if "eu-warehouse" in plan.sources:
                self._add(m.catalog_product_website, {"product_id": entity_id, "website_id": 2})
            for source_code, (qty, status) in plan.sources.items():
                self._source_item(source_code, plan.sku, Decimal(qty), status)
            for stock_id, reserved, event in plan.reservations:
                self._add(m.inventory_reservation, {
                    "stock_id": stock_id, "sku": plan.sku, "quantity": reserved,
                    "metadata": f'{{"event_type":"{event}","object_type":"order","object_id":"{entity_id}"}}'})
        return entity_id

    def _texts(self, entity_id: int, plan: Plan) -> None:
        self._value("varchar", entity_id, "name", plan.name)
        if plan.name_override:
            self._value("varchar", entity_id, "name", plan.name_override, DEFAULT_STORE)
        if plan.null_store_name:
            self._value("varchar", entity_id, "name", None, DEFAULT_STORE)
        if plan.fr_name:
            self._value("varchar", entity_id, "name", plan.fr_name, FR_STORE)
        url_key = plan.url_key if plan.url_key is not None else _slug(f"{plan.name} {plan.sku}")
        self._value("varchar", entity_id, "url_key", url_key)
        self._value("varchar", entity_id, "meta_title", plan.name[:255])
        if plan.meta_keyword:
            self._value("text", entity_id, "meta_keyword", plan.meta_keyword)
        self._value("text", entity_id, "description",
                    f"<p>The {plan.name} is built for every day.</p><ul><li>Machine wash</li></ul>")

    def _status_and_visibility(self, entity_id: int, plan: Plan) -> None:
        self._value("int", entity_id, "status", STATUS_ENABLED if plan.enabled else STATUS_DISABLED)
        if plan.store_status is not None:
            # Website-scoped values are written for every store view of the website.
            for store_id in (DEFAULT_STORE, FR_STORE):
                status = plan.store_status if store_id == DEFAULT_STORE else (
                    STATUS_ENABLED if plan.enabled else STATUS_DISABLED)
                self._value("int", entity_id, "status", status, store_id)
        self._value("int", entity_id, "visibility", VISIBLE_BOTH)
        self._value("int", entity_id, "tax_class_id", 0 if plan.kind == "virtual" else 2)
        self._value("int", entity_id, "quantity_and_stock_status", 1)

    def _prices(self, entity_id: int, plan: Plan) -> None:
        if plan.price is not None or plan.dirty_kind == "null_price":
            self._value("decimal", entity_id, "price", plan.price)
        if plan.price_override is not None:
            self._value("decimal", entity_id, "price", plan.price_override, DEFAULT_STORE)
        if plan.kind != "configurable":
            self._value("decimal", entity_id, "weight", Decimal(self.rng.randint(1, 40)) / 10)
        if plan.special and plan.price:
            self._special_price(entity_id, plan.price, plan.special)

    def _special_price(self, entity_id: int, price: Decimal, window: str) -> None:
        midnight = datetime.combine(self.today, time())
        start, end = {
            "active": (midnight - timedelta(days=5), midnight + timedelta(days=5)),
            "expired": (midnight - timedelta(days=30), midnight - timedelta(days=1)),
            "future": (midnight + timedelta(days=3), midnight + timedelta(days=10)),
            "open": (midnight - timedelta(days=2), None),
        }[window]
        self._value("decimal", entity_id, "special_price", (price * Decimal("0.8")).quantize(Decimal("0.01")))
        for store_id in (DEFAULT_STORE, FR_STORE):
            self._value("datetime", entity_id, "special_from_date", start, store_id)
            if end is not None:
                self._value("datetime", entity_id, "special_to_date", end, store_id)

    def _options(self, entity_id: int, plan: Plan) -> None:
        options = self.install.options
        if plan.raw_material_value is not None:
            value = plan.raw_material_value.format(cotton=options["material"]["Cotton"],
                                                   wool=options["material"]["Wool"])
            self._value("text", entity_id, "material", value)
        elif plan.materials:
            self._value("text", entity_id, "material", ",".join(str(options["material"][x]) for x in plan.materials))
        if plan.activities:
            self._value("varchar", entity_id, "activity",
                        ",".join(str(options["activity"][x]) for x in plan.activities))
        if plan.fabric is not None:
            self._value("varchar", entity_id, "fabric_composition", plan.fabric)
        if plan.store_fabric is not None:
            self._value("varchar", entity_id, "fabric_composition", plan.store_fabric, DEFAULT_STORE)
        if plan.leaf and plan.leaf.startswith("Gear") and self.rng.random() < 0.5:
            self._value("int", entity_id, "manufacturer", self.rng.choice(list(options["manufacturer"].values())))

    def _gallery(self, entity_id: int, sku: str, count: int, plan: Plan | None) -> None:
        files = [_media_path(sku, k) for k in range(count)]
        for position, file in enumerate(files, start=1):
            value_id = self.next_gallery_id
            self.next_gallery_id += 1
            hidden = plan is not None and plan.hidden_image and position == count
            self._add(m.catalog_product_entity_media_gallery, {
                "value_id": value_id, "attribute_id": self.install.gallery_attr, "value": file,
                "media_type": "image", "disabled": 0})
            self._add(m.catalog_product_entity_media_gallery_value, {
                "value_id": value_id, "store_id": ADMIN_STORE, "entity_id": entity_id, "label": None,
                "position": position, "disabled": int(hidden)})
            if plan is not None and plan.gallery_store_positions:
                # The store view shows the gallery in reverse order.
                self._add(m.catalog_product_entity_media_gallery_value, {
                    "value_id": value_id, "store_id": DEFAULT_STORE, "entity_id": entity_id, "label": None,
                    "position": count + 1 - position, "disabled": 0})
            self._add(m.catalog_product_entity_media_gallery_value_to_entity,
                      {"value_id": value_id, "entity_id": entity_id})
        if plan is not None and plan.image_role is not None:
            role: str | None = plan.image_role
        elif files:
            role = files[min(plan.base_image_position if plan else 0, len(files) - 1)]
        else:
            role = None
        if role is not None:
            for code in ("image", "small_image", "thumbnail"):
                self._value("varchar", entity_id, code, role)

    def _configurable_links(self, parent_id: int, child_ids: list[int]) -> None:
        for position, code in enumerate(("size", "color")):
            self._add(m.catalog_product_super_attribute, {"product_id": parent_id, "attribute_id": self.attr[code],
                                                          "position": position})
        for child_id in child_ids:
            self._add(m.catalog_product_super_link, {"product_id": child_id, "parent_id": parent_id})
            self._add(m.catalog_product_relation, {"parent_id": parent_id, "child_id": child_id})

    def _stock(self, entity_id: int, *, qty: int, in_stock: bool, manage: bool, sku: str | None,
               min_qty: int | None = None) -> None:
        self._add(m.cataloginventory_stock_item, {
            "product_id": entity_id, "stock_id": 1, "qty": Decimal(qty), "is_in_stock": int(in_stock),
            "manage_stock": int(manage), "use_config_manage_stock": int(manage), "website_id": 0,
            "min_qty": Decimal(min_qty or 0), "use_config_min_qty": int(min_qty is None)})
        if self.msi and sku is not None and manage:
            # Magento mirrors the default source into the legacy table (and back).
            self._source_item("default", sku, Decimal(qty), int(in_stock))

    def _source_item(self, source_code: str, sku: str, quantity: Decimal, status: int) -> None:
        # (source_code, sku) is unique in Magento, compared by the column's collation: MariaDB's
        # utf8mb4_general_ci ignores case and trailing spaces, so the dirty duplicate-SKU copy
        # ('mg-dup-001 ' beside 'MG-DUP-001') shares the original's source item, as in a real install.
        key = (source_code, sku.rstrip(" ").casefold())
        if key in self.source_item_keys:
            return
        self.source_item_keys.add(key)
        self._add(m.inventory_source_item, {"source_code": source_code, "sku": sku, "quantity": quantity,
                                            "status": status})

    def _link_id(self) -> int:
        link_id = self.next_link_id
        self.next_link_id += 1
        return link_id


def _slug(text: str) -> str:
    """A url_key as Magento makes one from a name; url_key is varchar(255) too."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())[:255]


def _media_path(sku: str, k: int) -> str:
    """Magento's dispersed media path: /<first char>/<second char>/<file>."""
    file = f"{_slug(sku) or 'x'}_{k + 1}.jpg"
    return f"/{file[0]}/{file[1] if len(file) > 1 else '_'}/{file}"

