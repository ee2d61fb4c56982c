from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        import inventory.message_codes  # noqa: F401 (registers the message codes)
        from acorn.dataio.jobs import Importer, importer_register
        from inventory.services import (
            forecast_import_file,
            inbound_supply_import_file,
            product_import_file,
        )

        # Registered by kind so the kernel's import jobs find them without
        # importing this app (floors, docs/architecture.md).
        importer_register(Importer(kind="inventory.products", run=product_import_file,
                                   page_url_name="inventory:product_import",
                                   title=_("Import products")))
        importer_register(Importer(kind="inventory.forecast", run=forecast_import_file,
                                   page_url_name="inventory:forecast_import",
                                   title=_("Import Amazon forecast")))
        importer_register(Importer(kind="inventory.inbound", run=inbound_supply_import_file,
                                   page_url_name="inventory:inbound_supply_import",
                                   title=_("Import inbound supply")))
