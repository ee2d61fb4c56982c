"""The platform watching itself: health checks, heartbeats, failed-task
records and Prometheus metrics.

Basement modules (``health``, ``heartbeats``, ``task_failures``) import no
domain app; ``metrics`` reads the apps' metric samples by dotted name, the
way acorn/overview.py reads home cards.
"""
