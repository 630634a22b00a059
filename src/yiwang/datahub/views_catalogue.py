"""Pages: 资源目录."""

urlpatterns: list = []
