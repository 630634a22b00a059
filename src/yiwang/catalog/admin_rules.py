"""Admin of rules (issue 4)."""
