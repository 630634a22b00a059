"""Pages: 我的数据."""

urlpatterns: list = []
