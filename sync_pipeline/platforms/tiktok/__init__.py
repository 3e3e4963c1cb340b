"""TikTok Shop: what the pipeline knows about this platform (client)."""
