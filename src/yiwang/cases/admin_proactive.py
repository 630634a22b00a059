"""Admin of proactive (issue 4)."""
