"""Factories; related objects always take the parent's tenant."""

import factory

from acorn.tests.factories import TenantFactory
from inventory.models import Product, StockLevel, Supplier, Warehouse

# The one tenant factory is the kernel's; named here too for the factories
# below (``factory.SubFactory(TenantFactory)``) and their importers.
__all__ = ["ProductFactory", "SupplierFactory", "TenantFactory", "WarehouseFactory"]


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"SUP{n}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    lead_time_days = 28
    moq_units = 0


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with its stock level row (as ``product_create`` makes)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    case_pack = 1
    supplier = factory.SubFactory(SupplierFactory, tenant=factory.SelfAttribute("..tenant"))

    @factory.post_generation
    def level(obj, create, extracted, **kwargs):
        if create:
            StockLevel.all_tenants.create(tenant=obj.tenant, product=obj)
