"""Pages: 数据共享网关."""

urlpatterns: list = []
