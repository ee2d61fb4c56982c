from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self):
        from django.db.models.signals import post_save

        from invoicing.models import Invoice

        post_save.connect(_invoice_saved, sender=Invoice,
                          dispatch_uid="invoicing.documents.on_invoice_issued")


def _invoice_saved(sender, instance, **kwargs):
    # Issuing renders the tenant's default language after commit (the hook
    # lives with the documents; invoicing/services/issue.py stays unchanged).
    from invoicing.documents.render import on_invoice_issued

    if instance.status == "issued" and not kwargs.get("raw"):
        on_invoice_issued(instance)
