"""Shopify: what the pipeline knows about this platform (client, auth)."""
