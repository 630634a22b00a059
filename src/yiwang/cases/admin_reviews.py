"""Admin of reviews (issue 4)."""
