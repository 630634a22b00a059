"""Admin: sharing (issue 14)."""
