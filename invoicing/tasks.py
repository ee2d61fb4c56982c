"""Tasks of the invoicing app: rendering documents on the documents queue."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from invoicing.documents import render

# A 1-page invoice renders in ~0.1-0.7 s; 60 s covers hundreds of pages.
# The soft limit marks the rendering failed (visible, retryable); the hard
# limit kills a worker stuck in native code.
RENDER_SOFT_LIMIT = 60
RENDER_HARD_LIMIT = 90


@shared_task(name="invoicing.invoice_render", ignore_result=True, queue=Queue.DOCUMENTS,
             soft_time_limit=RENDER_SOFT_LIMIT, time_limit=RENDER_HARD_LIMIT)
@tenant_task
def invoice_render_task(*, tenant_id: int, invoice_id: int, language: str,
                        force: bool = False) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        render.invoice_render(tenant=tenant, invoice_id=invoice_id, language=language,
                              force=force)
    except SoftTimeLimitExceeded:
        render.rendering_failed_mark(
            tenant=tenant, invoice_id=invoice_id, language=language,
            reason=f"Rendering took longer than {RENDER_SOFT_LIMIT} s and was stopped.",
        )
