"""Pages: identity."""

urlpatterns: list = []
