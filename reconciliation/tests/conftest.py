import pytest


@pytest.fixture
def user_a(tenant_a):
    from acorn.models import Role
    from acorn.tests.factories import UserFactory, membership_create

    user = UserFactory(username="ops-a")
    membership_create(tenant=tenant_a, user=user, role=Role.OPERATIONS)
    return user
