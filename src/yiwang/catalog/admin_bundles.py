"""Admin of bundles (issue 4)."""
