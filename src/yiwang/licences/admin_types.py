"""Admin of types (issue 5)."""
