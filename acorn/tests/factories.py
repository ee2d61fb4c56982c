"""Factories for the kernel. Domain factories take their tenant from here."""

import factory
from django.contrib.auth import get_user_model

from acorn.models import Membership, Role, Tenant
from acorn.tenancy import tenant_scope

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: f"Brand {o.slug}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Membership rows are written in their tenant's scope (acorn/rls.py).
        with tenant_scope(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)


def membership_create(*, tenant, user, role=Role.VIEWER) -> Membership:
    """A membership row without the audit entry of ``membership_set``."""
    return MembershipFactory(tenant=tenant, user=user, role=role)
