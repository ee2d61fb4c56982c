from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorApiConfig(AppConfig):
    name = "vendor_api"
    label = "vendor_api"
    verbose_name = _("Amazon SP-API client")
