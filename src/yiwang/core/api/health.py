"""GET /api/health: database, Huey, Redis and MQTT reachability."""

from ninja import Router

from ..apiutils import requires
from ..health import health_report
from ..permissions import PUBLIC

router = Router(tags=["health"])


@router.get("/health", auth=None, summary="平台健康检查")
@requires(PUBLIC)
def health(request):
    return health_report()
