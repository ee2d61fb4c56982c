from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("channels", "0002_sync_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchaseorderline",
            name="ack_net_cost",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True),
        ),
    ]
