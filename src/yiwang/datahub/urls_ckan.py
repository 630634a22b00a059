"""The CKAN Action API (/api/3/action/, /api/action/) and DCAT-AP (/catalog.*, /dataset/<id>.*), mounted at the
site root before the ninja API (issue 15; being built)."""

urlpatterns: list = []
