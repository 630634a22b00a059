"""Core pages, one module per resource; each module exposes `urlpatterns`."""
