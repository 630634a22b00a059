"""Admin of grants (issue 5)."""
