"""Admin of pledge (issue 4)."""
