"""The brand's own web stores: one adapter per platform behind one contract.

``adapter.py`` is the contract (store-channels.md §6). The adapters
(``shopify.py``, ``magento.py``, ``bigcommerce.py``) know nothing of
tenants: they take a ``StoreEndpoint`` and credentials, like vendor_api's
client, and the sync engine in ``channels/services/stores/`` owns the
connections. Their local sandboxes live in ``channels/stores/sandbox/``
and mount on the sandbox server through ``ACORN_SANDBOX_MOUNTS``.
"""
