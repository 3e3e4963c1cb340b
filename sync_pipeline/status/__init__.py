"""A product's state at a glance: per SKU, the master price and each store's price, title, external
id, sync state and last push; counts per state; a CSV export; one product's recent errors."""
