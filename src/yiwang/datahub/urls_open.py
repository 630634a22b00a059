"""The public open-data portal, mounted at /open/ with namespace "opendata" (issue 15; being built)."""

app_name = "opendata"

urlpatterns: list = []
