"""channels.demo.seed: an account, mappings for the sandbox catalog; idempotent."""

from channels.demo import seed
from channels.models import AmazonVendorAccount, Gs1Settings, SkuMapping


def test_demo_seed_is_idempotent(scope):
    # When the demo is seeded twice
    seed(tenant=scope)
    seed(tenant=scope)
    # Then one account, one GS1 row and 40 mappings exist
    account = AmazonVendorAccount.objects.get()
    assert account.lwa_refresh_token == "Atzr|sandbox-demo"
    assert Gs1Settings.objects.count() == 1
    assert SkuMapping.objects.filter(account=account).count() == 40
