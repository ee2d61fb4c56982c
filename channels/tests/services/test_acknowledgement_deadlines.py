"""ACK_DEADLINE alerts: raised 4 hours before the deadline, once, shown on
the overview, resolved when the acknowledgement leaves."""

import datetime

from django.utils import timezone

from acorn.overview import overview_cards
from channels.models import AckStatus, ChannelException, ExceptionKind, ExceptionStatus
from channels.services.acknowledgements import acknowledgement_deadlines_check
from channels.tests.factories import AmazonVendorAccountFactory, PurchaseOrderFactory


def test_deadline_alerts_are_raised_once_and_resolved(scope):
    now = timezone.now()
    account = AmazonVendorAccountFactory(tenant=scope)
    soon = PurchaseOrderFactory(tenant=scope, account=account, ack_status=AckStatus.REVIEW,
                                ack_deadline_at=now + datetime.timedelta(hours=3))
    PurchaseOrderFactory(tenant=scope, account=account, ack_status=AckStatus.REVIEW,
                         ack_deadline_at=now + datetime.timedelta(hours=10))
    PurchaseOrderFactory(tenant=scope, account=account, ack_status=AckStatus.ACCEPTED,
                         ack_deadline_at=now + datetime.timedelta(hours=1))
    assert acknowledgement_deadlines_check(tenant=scope, now=now) == 1
    assert acknowledgement_deadlines_check(tenant=scope, now=now) == 0
    alert = ChannelException.objects.get(kind=ExceptionKind.ACK_DEADLINE)
    assert alert.purchase_order == soon and soon.number in alert.message
    card = next(c for c in overview_cards(tenant=scope)
                if c["label"] == "Acknowledgements waiting")
    assert card["value"] == 2 and card["tone"] == "warning"
    # The PO gets acknowledged: the alert resolves on the next run
    soon.ack_status = AckStatus.SUBMITTED
    soon.save()
    acknowledgement_deadlines_check(tenant=scope, now=now)
    alert.refresh_from_db()
    assert alert.status == ExceptionStatus.RESOLVED
