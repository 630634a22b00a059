"""Yiwang (一网): digital-government platform."""

__version__ = "0.1.0"
