"""Admin of licences (issue 5)."""
