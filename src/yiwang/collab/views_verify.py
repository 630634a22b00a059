"""Pages: 公文 public verification and the sealed PDF / archive downloads."""

from __future__ import annotations

urlpatterns: list = []
