"""Background jobs of 一网协同 (Huey autodiscovers this module; each part's jobs live in its own
`tasks_<part>.py`, imported below)."""

from __future__ import annotations
