"""Fixtures and builders of the submission tests: a real sandbox over HTTP
with a per-test grant, an account pointing at it, and issued invoices and
credit notes billing a PO the sandbox knows (its lines, its costs)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from acorn.services import tenant_create
from acorn.tenancy import tenant_scope
from invoicing.models import DocumentKind, InvoiceAllowanceCharge, TaxCategory
from invoicing.services import invoice_issue
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory, NumberSeriesFactory
from vendor_api.sandbox.testing import running_sandbox

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
GB = "A1F83G8C2ARO7P"
FR = "A13V1IB3VIYZZH"
CA = "A2EUQ1WTGCTBG2"
JP = "A1VC38T7YXB528"
AE = "A2VIGQ35RCS4UG"


@pytest.fixture
def sandbox():
    with running_sandbox(purchase_orders=0) as handle:
        yield handle
        problems = handle.state.conformance_problems
        assert problems == [], f"sandbox served non-conforming responses: {problems[:5]}"


@pytest.fixture
def grant(sandbox):
    suffix = uuid.uuid4().hex[:12]
    credentials = {
        "client_id": f"amzn1.application-oa2-client.{suffix}",
        "client_secret": f"secret-{suffix}",
        "refresh_token": f"Atzr|{suffix}",
    }
    sandbox.control("POST", "/_sandbox/apps", {**credentials, "vendor_codes": ["DEMO1"]})
    return credentials


@pytest.fixture
def live(db):
    """The tenant in context without an outer transaction: services commit,
    on_commit callbacks run and the (eager) send task follows, as in
    production. Use with ``django_db(transaction=True)``."""
    tenant = tenant_create(slug="lotus", name="Lotus")
    with tenant_scope(tenant, atomic=False):
        yield tenant


@pytest.fixture
def account(live, sandbox, grant):
    from channels.tests.factories import AmazonVendorAccountFactory

    return AmazonVendorAccountFactory(
        tenant=live, name="Sandbox", endpoint_override=sandbox.base_url,
        lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
        lwa_refresh_token=grant["refresh_token"], vendor_codes=["DEMO1"],
    )


@pytest.fixture
def quick_client(monkeypatch):
    """The real client with short in-call retries."""
    from channels.services import clients
    from vendor_api.transport import RetryPolicy

    real = clients.account_client_build
    policy = RetryPolicy(max_attempts=3, base_delay_seconds=0.05, max_delay_seconds=0.2,
                         total_budget_seconds=10)

    def build(*, account, **options):
        return real(account=account, **{"retry_policy": policy, **options})

    monkeypatch.setattr(clients, "account_client_build", build)


def sandbox_po(sandbox):
    (po,) = sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    return po


def _series(tenant, kind):
    from invoicing.models import NumberSeries

    series = NumberSeries.objects.filter(tenant=tenant, kind=kind).first()
    return series or NumberSeriesFactory(
        tenant=tenant, kind=kind, prefix="INV-" if kind == DocumentKind.INVOICE else "CN-")


def issued_document(
    tenant, account, po, *, kind=DocumentKind.INVOICE, marketplace=US, currency="USD",
    credit_reason="", credit_references=None, original=None, quantity=None,
    cost_delta=Decimal(0), tax=(TaxCategory.OUTSIDE_SCOPE, Decimal("0")), charge=None,
    allowance=None, due_days=None, issue=True, check_results=None,
):
    """An invoice (or credit note) billing ``po``'s lines at its costs."""
    category, rate = tax
    with tenant_scope(tenant, atomic=False):
        invoice = InvoiceFactory(
            tenant=tenant, account=account, kind=kind, series=_series(tenant, kind),
            currency=currency, marketplace_id=marketplace, purchase_order_number=po.number,
            credit_reason=credit_reason, credit_references=credit_references or {},
            original_invoice=original, check_results=check_results or [],
            payment_due_date=(timezone.now().date() + datetime.timedelta(days=due_days)
                              if due_days is not None else None),
        )
        for number, line in enumerate(po.lines, start=1):
            InvoiceLineFactory(
                tenant=tenant, invoice=invoice, line_number=number,
                item_sequence_number=line.sequence, purchase_order_number=po.number,
                asin=line.asin, vendor_sku=line.vendor_sku,
                quantity=line.ordered if quantity is None else quantity,
                net_unit_cost=line.net_cost + cost_delta, tax_category=category, tax_rate=rate,
            )
        for is_charge, spec in ((True, charge), (False, allowance)):
            if spec:
                code, amount = spec
                InvoiceAllowanceCharge.objects.create(
                    tenant=tenant, invoice=invoice, is_charge=is_charge, reason_code=code,
                    reason="Freight" if is_charge else "Discount", amount=amount,
                    tax_category=category, tax_rate=rate,
                )
    if issue:
        invoice = invoice_issue(tenant=tenant, invoice_id=invoice.pk,
                                issue_date=timezone.now().date())
    return invoice
