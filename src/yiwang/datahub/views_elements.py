"""Pages: 数据元."""

urlpatterns: list = []
