"""selectors of the channels app, one module per subdomain.

Import from the submodules directly; this package re-exports nothing.
"""
