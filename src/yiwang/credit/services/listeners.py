"""The platform's own credit records, written where they happen: a case listener (cases.services.common) for a
pledge found false (the approval revoked on a failed 核查) and an overdue 容缺 promise (the case suspended)."""

from __future__ import annotations
