"""The Celery queues, by nature of work (basement: every app's tasks name
one, and importing the Celery app itself, floor 4, is not allowed)."""

import enum


class Queue(enum.StrEnum):
    # Rate-limited SP-API I/O: few workers, many waits on the token bucket.
    AMAZON = "amazon"
    # Web-store I/O (Shopify, Magento, BigCommerce pushes and pulls).
    STORES = "stores"
    # CPU-bound document rendering (PDF/A-3); kept apart so it cannot
    # starve the I/O queues.
    DOCUMENTS = "documents"
    # Everything short and local.
    DEFAULT = "default"
