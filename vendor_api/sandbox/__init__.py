"""A local Amazon: SP-API vendor operations and LWA over real HTTP.

``python manage.py sandbox --port 8100`` runs it; tests use
``vendor_api.sandbox.testing.running_sandbox``.
"""
