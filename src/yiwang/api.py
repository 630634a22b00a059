"""The one NinjaAPI: each app contributes a router; OpenAPI 3 at /api/docs and /api/openapi.json."""

from .core.apiutils import API_AUTH, YiwangAPI, install_problem_handlers
from .web.apidocs import LocalSwagger

api = YiwangAPI(  # NinjaAPI + the edge's JSON parser + every error declared in the OpenAPI document
    title="Yiwang 一网 API",
    version="1",
    description=(
        "一网通办、一网统管、一网协同 与数据中台的统一接口。认证：页面会话，或 `Authorization: Bearer <token>`"
        "（POST /api/auth/token 以账户口令或接入系统的客户端凭证换取）。错误为 RFC 9457 application/problem+json。"
    ),
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    docs=LocalSwagger(),  # Swagger UI from our own static files, not a CDN (Content-Security-Policy)
    openapi_url="/openapi.json",
)
install_problem_handlers(api)


def _register_routers() -> None:
    from .cases.api import router as cases_router
    from .cases.bundles.api import router as bundles_router
    from .cases.pledges.api import router as pledge_router
    from .cases.proactive.api import router as proactive_router
    from .cases.reviews.api import router as reviews_router
    from .catalog.api import router as catalog_router
    from .collab import (
        api_documents,
        api_forms,
        api_indicators,
        api_meetings,
        api_notices,
        api_reports,
        api_tasks,
        api_verify,
        api_workbench,
    )
    from .core.api import router as core_router
    from .credit import api_files as credit_files
    from .credit import api_lists as credit_lists
    from .credit import api_objections as credit_objections
    from .credit import api_public as credit_public
    from .credit import api_supervision as credit_supervision
    from .datahub.api_assets import router as datahub_assets_router
    from .datahub.api_catalogue import router as datahub_catalogue_router
    from .datahub.api_census import router as datahub_census_router
    from .datahub.api_elements import router as datahub_elements_router
    from .datahub.api_gateway import router as datahub_gateway_router
    from .datahub.api_mydata import router as datahub_mydata_router
    from .datahub.api_objections import router as datahub_objections_router
    from .datahub.api_opendata import router as datahub_opendata_router
    from .datahub.api_quality import router as datahub_quality_router
    from .datahub.api_returnflow import router as datahub_returnflow_router
    from .datahub.api_scorecard import router as datahub_scorecard_router
    from .datahub.api_sharing import router as datahub_sharing_router
    from .incidents.api_intake import router as incident_intake_router
    from .incidents.api_iot import router as iot_router
    from .incidents.api_ops import router as incident_ops_router
    from .incidents.api_work import router as incident_work_router
    from .licences.api_grants import router as licence_grants_router
    from .licences.api_holder import router as licence_holder_router
    from .licences.api_imports import router as licence_imports_router
    from .licences.api_issuer import router as licence_issuer_router
    from .licences.api_receipts import router as licence_receipts_router
    from .licences.api_verify import router as licence_verify_router

    api.add_router("/", core_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/cases", cases_router)
    api.add_router("/bundles", bundles_router)
    api.add_router("/proactive", proactive_router)
    api.add_router("/pledges", pledge_router)
    api.add_router("/reviews", reviews_router)
    api.add_router("/licences/verify", licence_verify_router)
    api.add_router("/licences/mine", licence_holder_router)
    api.add_router("/licences/issuer", licence_issuer_router)
    api.add_router("/licences/grants", licence_grants_router)
    api.add_router("/licences/imports", licence_imports_router)
    api.add_router("/licences", licence_receipts_router)  # /{licence_id}/receipts (存证回执)
    api.add_router("/incidents/intake", incident_intake_router)
    api.add_router("/incidents/ops", incident_ops_router)
    api.add_router("/incidents/iot", iot_router)
    api.add_router("/incidents", incident_work_router)
    api.add_router("/datahub/elements", datahub_elements_router)
    api.add_router("/datahub/catalogue", datahub_catalogue_router)
    api.add_router("/datahub/share", datahub_sharing_router)
    api.add_router("/datahub/return", datahub_returnflow_router)
    api.add_router("/gateway/v1", datahub_gateway_router)  # the data-sharing gateway, for registered systems
    api.add_router("/mydata", datahub_mydata_router)
    api.add_router("/datahub/census", datahub_census_router)
    api.add_router("/datahub/quality", datahub_quality_router)
    api.add_router("/datahub/objections", datahub_objections_router)
    api.add_router("/datahub/scorecard", datahub_scorecard_router)
    api.add_router("/datahub/open", datahub_opendata_router)
    api.add_router("/datahub/assets", datahub_assets_router)
    api.add_router("/collab/workbench", api_workbench.router)
    api.add_router("/collab/notices", api_notices.router)
    api.add_router("/collab/tasks", api_tasks.router)
    api.add_router("/collab/indicators", api_indicators.router)
    api.add_router("/collab/forms", api_forms.router)
    api.add_router("/collab/reports", api_reports.router)
    api.add_router("/collab/documents", api_documents.router)
    api.add_router("/collab/verify", api_verify.router)
    api.add_router("/collab/meetings", api_meetings.router)
    api.add_router("/credit/files", credit_files.router)
    api.add_router("/credit/lists", credit_lists.router)
    api.add_router("/credit/objections", credit_objections.router)
    api.add_router("/credit/public", credit_public.router)
    api.add_router("/supervision", credit_supervision.router)


_register_routers()
