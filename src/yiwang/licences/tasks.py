"""Background jobs of the licences app (Huey autodiscovers this module)."""
