"""Admin: elements (issue 14)."""
