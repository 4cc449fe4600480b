"""Genre recognition and the per-track sound embedding (headless)."""
