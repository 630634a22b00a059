"""Admin of seals (issue 5)."""
