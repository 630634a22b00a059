import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
application = get_asgi_application()

from yiwang.warmup import warm  # noqa: E402  (after Django is set up)

warm()
