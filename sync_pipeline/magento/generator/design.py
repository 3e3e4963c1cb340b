"""The generated shop's design: its stores, attributes, option labels, category tree and word lists.

Plain data the installer, the planner and the writer share; nothing here touches a database.
"""

from __future__ import annotations

PRODUCT_TYPE_ID = 4
CATEGORY_TYPE_ID = 3
ADMIN_STORE, DEFAULT_STORE, FR_STORE = 0, 1, 2
BASE_URL = "http://magento.example.test/"
MEDIA_BASE_URL = BASE_URL + "media/catalog/product"
SELLABLE_SHARE = 0.10
BATCH_ROWS = 10_000

STATUS_ENABLED, STATUS_DISABLED = 1, 2
UNSYNCED_KINDS = ("virtual", "bundle", "grouped", "downloadable")  # written so imports count what they leave out
NOT_VISIBLE, VISIBLE_BOTH = 1, 4

_TABLE_SOURCE = "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table"
ARRAY_BACKEND = "Magento\\Eav\\Model\\Entity\\Attribute\\Backend\\ArrayBackend"

# code, backend_type, frontend_input, source_model, is_global, is_user_defined, label
PRODUCT_ATTRIBUTES: tuple[tuple[str, str, str, str | None, int, int, str], ...] = (
    ("name", "varchar", "text", None, 0, 0, "Product Name"),
    ("sku", "static", "text", None, 1, 0, "SKU"),
    ("description", "text", "textarea", None, 0, 0, "Description"),
    ("short_description", "text", "textarea", None, 0, 0, "Short Description"),
    ("price", "decimal", "price", None, 1, 0, "Price"),
    ("special_price", "decimal", "price", None, 1, 0, "Special Price"),
    ("special_from_date", "datetime", "date", None, 2, 0, "Special Price From Date"),
    ("special_to_date", "datetime", "date", None, 2, 0, "Special Price To Date"),
    ("cost", "decimal", "price", None, 1, 0, "Cost"),
    ("weight", "decimal", "weight", None, 1, 0, "Weight"),
    ("manufacturer", "int", "select", _TABLE_SOURCE, 1, 0, "Manufacturer"),
    ("meta_title", "varchar", "text", None, 0, 0, "Meta Title"),
    ("meta_keyword", "text", "textarea", None, 0, 0, "Meta Keywords"),
    ("meta_description", "varchar", "textarea", None, 0, 0, "Meta Description"),
    ("image", "varchar", "media_image", None, 0, 0, "Base"),
    ("small_image", "varchar", "media_image", None, 0, 0, "Small"),
    ("thumbnail", "varchar", "media_image", None, 0, 0, "Thumbnail"),
    ("media_gallery", "static", "gallery", None, 0, 0, "Media Gallery"),
    ("color", "int", "select", _TABLE_SOURCE, 1, 0, "Color"),
    ("status", "int", "select", "Magento\\Catalog\\Model\\Product\\Attribute\\Source\\Status", 2, 0,
     "Enable Product"),
    ("tax_class_id", "int", "select", "Magento\\Tax\\Model\\TaxClass\\Source\\Product", 2, 0, "Tax Class"),
    ("url_key", "varchar", "text", None, 0, 0, "URL Key"),
    ("visibility", "int", "select", "Magento\\Catalog\\Model\\Product\\Visibility", 0, 0, "Visibility"),
    ("quantity_and_stock_status", "int", "select", "Magento\\CatalogInventory\\Model\\Source\\Stock", 1, 0,
     "Quantity"),
    ("eco_collection", "int", "boolean", "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Boolean", 1, 1,
     "Eco Collection"),
    ("size", "int", "select", _TABLE_SOURCE, 1, 1, "Size"),
    ("material", "text", "multiselect", _TABLE_SOURCE, 1, 1, "Material"),
    ("activity", "varchar", "multiselect", _TABLE_SOURCE, 1, 1, "Activity"),
    ("fabric_composition", "varchar", "text", None, 0, 1, "Fabric Composition"),  # typed in, no options
)

CATEGORY_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("name", "varchar", "text"),
    ("is_active", "int", "select"),
    ("url_key", "varchar", "text"),
    ("include_in_menu", "int", "select"),
)

# admin label -> {store_id: store-view label}
OPTIONS: dict[str, dict[str, dict[int, str]]] = {
    "color": {
        "Black": {FR_STORE: "Noir"}, "Blue": {FR_STORE: "Bleu"}, "Gray": {DEFAULT_STORE: "Grey", FR_STORE: "Gris"},
        "Green": {FR_STORE: "Vert"}, "Red": {FR_STORE: "Rouge"}, "White": {FR_STORE: "Blanc"},
    },
    "size": {"XS": {}, "S": {}, "M": {}, "L": {}, "XL": {}},
    "material": {
        "Cotton": {DEFAULT_STORE: "Organic Cotton", FR_STORE: "Coton"}, "Polyester": {}, "Nylon": {},
        "Leather": {FR_STORE: "Cuir"}, "Wool": {}, "Cocona&reg; performance fabric": {},
    },
    "activity": {"Running": {}, "Yoga": {}, "Hiking": {DEFAULT_STORE: "Trail & Hiking"}, "Gym": {}},
    "manufacturer": {"Luma": {}, "Atlas Outfitters": {}, "Nimbus Co.": {}},
}

# What apparel's ``fabric_composition`` says (a plain-text attribute: a mapping sends it as free text).
FABRICS = ("100% cotton", "60% cotton, 40% polyester", "95% organic cotton, 5% elastane",
           "100% recycled polyester", "80% nylon, 20% spandex")

# (name at store 0, French name, children); the paths other code maps: keep them exactly.
CATEGORY_TREE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Men", "Hommes", (("Tops", "Hauts"), ("Bottoms", "Bas"))),
    ("Women", "Femmes", (("Tops", "Hauts"), ("Bottoms", "Bas"))),
    ("Gear", "Équipement", (("Bags", "Sacs"), ("Fitness Equipment", "Fitness"), ("Watches", "Montres"))),
)
APPAREL_LEAVES = ("Men/Tops", "Men/Bottoms", "Women/Tops", "Women/Bottoms")
GEAR_LEAVES = ("Gear/Bags", "Gear/Fitness Equipment", "Gear/Watches")

ADJECTIVES = ("Endurance", "Summit", "Voyage", "Atlas", "Nimbus", "Harmony", "Pursuit", "Crown", "Zing",
               "Aero", "Orion", "Breathe-Easy", "Cobalt", "Juno", "Stellar")
NOUNS = {
    "Tops": ("Tee", "Hoodie", "Tank", "Jacket", "Pullover"),
    "Bottoms": ("Short", "Pant", "Legging", "Jogger"),
    "Bags": ("Duffle", "Backpack", "Tote", "Messenger Bag"),
    "Fitness Equipment": ("Yoga Mat", "Kettlebell", "Foam Roller", "Resistance Band", "Water Bottle"),
    "Watches": ("Chronograph", "Smartwatch", "Sport Watch"),
}

# MSI (msi=True only): source code, name, enabled.
MSI_SOURCES = (("default", "Default Source", 1), ("east", "East Warehouse", 1), ("west", "West Warehouse", 1),
               ("retired", "Retired Warehouse", 0), ("eu-warehouse", "EU Warehouse", 1))
# stock id, name, linked sources, website code
MSI_STOCKS = ((1, "Default Stock", ("default", "east", "west", "retired"), "base"),
              (2, "EU Stock", ("eu-warehouse",), "eu"))
EU_STORE = 3
