"""Local simulators of the web-store platforms, mounted on vendor_api's
sandbox server through settings.ACORN_SANDBOX_MOUNTS (each module has a
``register(router)``)."""
