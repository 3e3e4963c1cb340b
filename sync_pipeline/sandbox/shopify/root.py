"""The root value of one Shopify sandbox request: every resolver group, composed in one class."""

from __future__ import annotations

from sync_pipeline.sandbox.shopify.creation import CreationResolvers
from sync_pipeline.sandbox.shopify.inventory import InventoryResolvers
from sync_pipeline.sandbox.shopify.media import MediaResolvers
from sync_pipeline.sandbox.shopify.metafields import MetafieldResolvers
from sync_pipeline.sandbox.shopify.publishing import PublishingResolvers
from sync_pipeline.sandbox.shopify.reads import ReadResolvers
from sync_pipeline.sandbox.shopify.variants import VariantResolvers
from sync_pipeline.sandbox.shopify.webhooks import WebhookResolvers


class Root(
    ReadResolvers, CreationResolvers, VariantResolvers, InventoryResolvers, PublishingResolvers, MetafieldResolvers,
    MediaResolvers, WebhookResolvers,
):
    """graphql-core resolves a root field by calling the attribute of the same name."""
