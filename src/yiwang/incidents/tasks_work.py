"""Huey jobs (stub: filled by its feature)."""
