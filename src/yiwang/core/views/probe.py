"""A bare liveness probe for load balancers: no database, no session, no template."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from ..pageutils import page_requires
from ..permissions import PUBLIC


@require_GET
@page_requires(PUBLIC)
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
