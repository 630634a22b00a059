"""Admin (stub: filled by its feature)."""
