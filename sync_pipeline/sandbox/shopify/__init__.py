"""Sandbox of Shopify's Admin API: routes and auth (``emulator``, ``auth``), products (``catalog``), sales
channels (``channels``), query cost (``cost``) and the SDL it serves (``schema.graphql``)."""
