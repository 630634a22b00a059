"""Pages: org."""

urlpatterns: list = []
