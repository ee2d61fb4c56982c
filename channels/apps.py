from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = _("Sales channels")

    def ready(self):
        import channels.message_codes  # noqa: F401 (registers the message codes)
        from acorn.dataio.jobs import Importer, importer_register
        from channels.services.mappings import mapping_import_file

        # Registered by kind so the kernel's import jobs find it without
        # importing this app (floors, docs/architecture.md).
        importer_register(Importer(kind="channels.sku_mappings", run=mapping_import_file,
                                   page_url_name="channels:mapping_import",
                                   title=_("Import SKU mappings"), role="admin"))


# The import name "channels" is also the Django Channels distribution's;
# name and label are set explicitly above and that distribution is never a
# dependency (see STYLE.md section 10).
