"""Admin of instant (issue 4)."""
