"""Pages: registry."""

urlpatterns: list = []
