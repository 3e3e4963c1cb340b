"""The GraphQL documents the Shopify client sends (the contract test validates each one against
Shopify's 2026-07 schema, /work/shared/contracts) and the requested cost of each under Shopify's
rules (contract 1.7), which the client reserves from its bucket before sending."""

from __future__ import annotations

MAX_PRODUCT_MEDIA = 250  # contract 1.5: files per productSet call (and a product's media cap)

_VARIANT_FIELDS = (
    "id sku price compareAtPrice inventoryQuantity selectedOptions { name value } inventoryItem { id }"
)
MAX_PUBLICATIONS_READ = 10  # a store's channels: Online Store, Point of Sale, Shop, a few apps
_PUBLICATIONS_FIELD = (
    f"resourcePublicationsV2(first: {MAX_PUBLICATIONS_READ}) {{ nodes {{ isPublished publication {{ id }} }} }}"
)
_PRODUCT_FIELDS = (
    "id handle title status descriptionHtml vendor productType tags mediaCount { count } "
    f"{_PUBLICATIONS_FIELD} "
    f"variants(first: $variantCount) {{ nodes {{ {_VARIANT_FIELDS} }} }}"
)

PRODUCT_SET = f"""
mutation SyncProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $variantCount: Int!) {{
  productSet(input: $input, identifier: $identifier, synchronous: true) {{
    product {{ id tags {_PUBLICATIONS_FIELD} variants(first: $variantCount) {{ nodes {{ id sku inventoryItem {{ id }} }} }} }}
    userErrors {{ field message code }}
  }}
}}"""

PUBLICATIONS_READ = """
query SyncPublications($after: String) {
  publications(first: 50, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } }
}"""


def _id_and_list_mutation(name: str, field: str, argument: str, item_type: str) -> str:
    """``field(id:, <argument>:)`` answering its userErrors: publish/unpublish, tagsAdd/tagsRemove."""
    return f"""
mutation {name}($id: ID!, ${argument}: [{item_type}!]!) {{
  {field}(id: $id, {argument}: ${argument}) {{ userErrors {{ field message }} }}
}}"""


PUBLISH = _id_and_list_mutation("SyncPublish", "publishablePublish", "input", "PublicationInput")
UNPUBLISH = _id_and_list_mutation("SyncUnpublish", "publishableUnpublish", "input", "PublicationInput")
TAGS_ADD = _id_and_list_mutation("SyncTagsAdd", "tagsAdd", "tags", "String")
TAGS_REMOVE = _id_and_list_mutation("SyncTagsRemove", "tagsRemove", "tags", "String")

TAXONOMY_SEARCH = """
query SyncTaxonomySearch($search: String!) {
  taxonomy { categories(search: $search, first: 50) { nodes { id fullName } } }
}"""

PRODUCT_READ = f"""
query SyncProductRead($id: ID!, $variantCount: Int!) {{
  product(id: $id) {{ {_PRODUCT_FIELDS} }}
}}"""

PRODUCT_BY_HANDLE = f"""
query SyncProductByHandle($handle: String!, $variantCount: Int!) {{
  productByIdentifier(identifier: {{handle: $handle}}) {{ {_PRODUCT_FIELDS} }}
}}"""

PRODUCT_MEDIA_READ = """
query SyncProductMedia($id: ID!, $mediaCount: Int!) {
  product(id: $id) { id media(first: $mediaCount) { nodes { id alt } } }
}"""

PRODUCT_MEDIA_SOURCES = """
query SyncProductMediaSources($id: ID!, $mediaCount: Int!) {
  product(id: $id) { id media(first: $mediaCount) { nodes { id alt ... on MediaImage { image { url } } } } }
}"""

PRODUCT_RESTORE = """
mutation SyncProductRestore($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id }
    userErrors { field message code }
  }
}"""

PRODUCTS_PAGE = f"""
query SyncProductsPage($after: String, $variantCount: Int!) {{
  products(first: {{page}}, after: $after) {{ nodes {{ {_PRODUCT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
}}"""

PRODUCT_SEARCH = f"""
query SyncProductSearch($query: String!, $variantCount: Int!) {{
  products(first: 2, query: $query) {{ nodes {{ {_PRODUCT_FIELDS} }} }}
}}"""

VARIANT_PRICES_UPDATE = """
mutation SyncVariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message code }
  }
}"""

INVENTORY_SET = """
mutation SyncInventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""

PRODUCT_STATUS_UPDATE = """
mutation SyncProductStatus($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}"""

PRODUCT_DELETE = """
mutation SyncProductDelete($input: ProductDeleteInput!) {
  productDelete(input: $input) {
    deletedProductId
    userErrors { field message }
  }
}"""

# Products per page when reading a whole store, sized so a page stays under the 1000-point query limit.
STORE_PAGE_PRODUCTS = 4
STORE_PAGE_VARIANTS = 60
STORE_PAGE_DOCUMENT = PRODUCTS_PAGE.replace("{page}", str(STORE_PAGE_PRODUCTS))

DOCUMENTS = (
    PRODUCT_SET,
    PUBLICATIONS_READ,
    PUBLISH,
    UNPUBLISH,
    TAGS_ADD,
    TAGS_REMOVE,
    TAXONOMY_SEARCH,
    PRODUCT_READ,
    PRODUCT_BY_HANDLE,
    PRODUCT_MEDIA_READ,
    PRODUCT_MEDIA_SOURCES,
    PRODUCT_RESTORE,
    STORE_PAGE_DOCUMENT,
    PRODUCT_SEARCH,
    VARIANT_PRICES_UPDATE,
    INVENTORY_SET,
    PRODUCT_STATUS_UPDATE,
    PRODUCT_DELETE,
)


# Requested cost of each document under Shopify's rules (contract 1.7), to reserve before sending.
COST_OF_PUBLICATIONS_FIELD = 2 + MAX_PUBLICATIONS_READ * 2


def cost_of_product_set(variants: int) -> int:
    return 10 + 1 + 2 + variants * 2 + COST_OF_PUBLICATIONS_FIELD


def cost_of_product_read(variants: int) -> int:
    return 1 + 1 + 2 + variants * 3 + COST_OF_PUBLICATIONS_FIELD


def cost_of_media_read(media: int) -> int:
    return 1 + 2 + media
