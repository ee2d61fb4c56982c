"""tasks of the channels app, one module per subdomain.

Import from the submodules directly. The imports below only register the
tasks with Celery (autodiscovery imports ``channels.tasks`` alone); add a
new task module here.
"""

from channels.tasks import (  # noqa: F401
    accounts,
    acknowledgements,
    monitoring,
    purchase_orders,
    reports,
    runs,
    stores,
    submissions,
)
