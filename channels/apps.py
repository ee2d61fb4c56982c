from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = _("Sales channels")


# The import name "channels" is also the Django Channels distribution's;
# name and label are set explicitly above and that distribution is never a
# dependency (see STYLE.md section 10).
