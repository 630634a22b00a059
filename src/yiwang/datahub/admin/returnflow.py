"""Admin: returnflow (issue 14)."""
