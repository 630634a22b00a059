"""GET /api/health: database, Huey, Redis and MQTT reachability."""

from ninja import Router

from ..apiutils import requires
from ..health import health_report
from ..permissions import PUBLIC, SELF_SERVICE

router = Router(tags=["health"])


@router.get("/health", auth=None, summary="平台健康检查")
@requires(PUBLIC)
def health(request):
    return health_report()


@router.get("/ping", summary="已认证的空操作（基准测试与连通性检查）")
@requires(SELF_SERVICE)
def ping(request):
    return {"ok": True}
