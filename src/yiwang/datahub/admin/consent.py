"""Admin: consent (issue 14)."""
