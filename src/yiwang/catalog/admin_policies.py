"""Admin of policies (issue 4)."""
