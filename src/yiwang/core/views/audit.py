"""Pages: audit."""

urlpatterns: list = []
