"""tasks of the channels app, one module per subdomain.

Import from the submodules directly. The imports below only register the
tasks with Celery (autodiscovery imports ``channels.tasks`` alone); add a
new task module here.
"""

from channels.tasks import accounts, purchase_orders, reports  # noqa: F401
from channels.tasks import acknowledgements, shipments, submissions  # noqa: F401
