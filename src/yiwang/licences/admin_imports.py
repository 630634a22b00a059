"""Admin of imports (issue 5)."""
