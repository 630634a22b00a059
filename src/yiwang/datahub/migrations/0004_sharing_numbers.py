from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("datahub", "0003_mydata_voucher_signature"),
    ]

    operations = [
        migrations.AddField(
            model_name="sharegrant",
            name="expiry_reminded_at",
            field=models.DateTimeField(
                blank=True,
                help_text="到期前 10 个工作日提醒申请方（每个有效期一次）",
                null=True,
                verbose_name="到期提醒时间",
            ),
        ),
        migrations.CreateModel(
            name="ShareSequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=2)),
                ("day", models.DateField()),
                ("last", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("kind", "day"), name="share_sequence_once")],
            },
        ),
    ]
