"""GET /api/health: public liveness; GET /api/health/details: database, Huey, Redis and MQTT for operators."""

from django.http import JsonResponse
from ninja import Router, Schema

from ..apiutils import requires
from ..health import health_report, liveness
from ..permissions import PLATFORM_HEALTH, PUBLIC, SELF_SERVICE

router = Router(tags=["health"])


class LivenessOut(Schema):
    status: str


@router.get(
    "/health", auth=None, response={200: LivenessOut, 503: LivenessOut}, summary="平台存活检查（公开）"
)
@requires(PUBLIC)
def health(request):
    # Public: says only whether the platform answers and reaches its database — no backlog, no addresses.
    status = liveness()
    response = JsonResponse({"status": status}, status=200 if status == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response


@router.get("/health/details", summary="平台运行详情：数据库、队列积压、Redis 与消息代理")
@requires(PLATFORM_HEALTH)
def health_details(request):
    return health_report()


@router.get("/ping", summary="已认证的空操作（基准测试与连通性检查）")
@requires(SELF_SERVICE)
def ping(request):
    return {"ok": True}
