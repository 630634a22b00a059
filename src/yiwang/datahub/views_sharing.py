"""Pages: 共享申请."""

urlpatterns: list = []
