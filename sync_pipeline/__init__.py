"""Keep marketplace stores (Shopify, Shopee, TikTok Shop) in step with a Magento 2 catalog."""
