"""Core API routers, one module per resource."""

from ninja import Router

from . import audit, health, identity, notify, org, receipts, registry

router = Router()
router.add_router("/", health.router)
router.add_router("/auth", identity.router)
router.add_router("/org", org.router)
router.add_router("/registry", registry.router)
router.add_router("/audit", audit.router)
router.add_router("/audit/receipts", receipts.router)  # POST /verify: check a receipt (public)
router.add_router("/notifications", notify.router)
