"""The credit check's panels on the case pages (cases.panels): what was checked, what applied and why, shown to
the applicant and to staff."""

from __future__ import annotations
