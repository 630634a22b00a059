"""Issuing licences from concluded cases (a case listener) — see the issue-5 brief."""

from __future__ import annotations
