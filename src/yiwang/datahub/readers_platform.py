"""Readers of the platform's own registries (filled in by the gateway part of issue 14)."""
