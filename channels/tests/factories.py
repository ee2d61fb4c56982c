"""Factories; related objects always take the parent's tenant.

Shared by both halves of channels: append new factories, don't rewrite.
"""

import datetime

import factory
from django.utils import timezone

from acorn.tests.factories import TenantFactory
from channels.models import (
    AccountEnvironment,
    AmazonVendorAccount,
    ChannelException,
    ExceptionKind,
    PurchaseOrder,
    PurchaseOrderLine,
    Region,
    SkuMapping,
)
from inventory.tests.factories import ProductFactory


class AmazonVendorAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AmazonVendorAccount

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Vendor account {n}")
    region = Region.NA
    marketplace_id = "ATVPDKIKX0DER"
    environment = AccountEnvironment.LOCAL_SANDBOX
    endpoint_override = "http://127.0.0.1:9"
    vendor_codes = factory.LazyFunction(lambda: ["DEMO1"])
    ship_from = factory.LazyFunction(lambda: {"partyId": "DEMO1"})
    lwa_client_id = factory.Sequence(lambda n: f"amzn1.application-oa2-client.test{n}")
    lwa_client_secret = "test-client-secret"  # noqa: S105 (test value)
    lwa_refresh_token = factory.Sequence(lambda n: f"Atzr|test-refresh-{n}")


class SkuMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuMapping

    tenant = factory.SubFactory(TenantFactory)
    account = factory.SubFactory(
        AmazonVendorAccountFactory, tenant=factory.SelfAttribute("..tenant")
    )
    asin = factory.Sequence(lambda n: f"B0TEST{n:04d}")
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..tenant"))


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    tenant = factory.SubFactory(TenantFactory)
    account = factory.SubFactory(
        AmazonVendorAccountFactory, tenant=factory.SelfAttribute("..tenant")
    )
    number = factory.Sequence(lambda n: f"PO{n:06d}")
    state = "New"
    order_type = "RegularOrder"
    ordered_at = factory.LazyFunction(timezone.now)
    ship_to_party_id = "ABE2"
    currency = "USD"
    content_hash = factory.Sequence(lambda n: f"{n:064d}")
    ack_deadline_at = factory.LazyAttribute(
        lambda o: o.ordered_at + datetime.timedelta(hours=24)
    )


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    tenant = factory.SubFactory(TenantFactory)
    purchase_order = factory.SubFactory(
        PurchaseOrderFactory, tenant=factory.SelfAttribute("..tenant")
    )
    item_sequence_number = factory.Sequence(lambda n: str(n % 1000 + 1))
    asin = factory.Sequence(lambda n: f"B0LINE{n:04d}")
    ordered_quantity = 12
    net_cost = factory.LazyFunction(lambda: __import__("decimal").Decimal("9.99"))
    currency = "USD"


class ChannelExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelException

    tenant = factory.SubFactory(TenantFactory)
    account = factory.SubFactory(
        AmazonVendorAccountFactory, tenant=factory.SelfAttribute("..tenant")
    )
    kind = ExceptionKind.SYNC_FAILED
    subject_key = factory.Sequence(lambda n: f"probe:{n}")
    message = factory.Sequence(lambda n: f"Exception message {n}")
