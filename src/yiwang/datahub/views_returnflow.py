"""Pages: 回流与离岸库."""

urlpatterns: list = []
