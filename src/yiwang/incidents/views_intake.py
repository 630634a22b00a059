"""Pages (stub: filled by its feature)."""

urlpatterns: list = []
