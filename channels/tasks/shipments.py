"""Thin tasks for shipments (ASN)."""
