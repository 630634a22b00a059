"""Admin: catalogue (issue 14)."""
