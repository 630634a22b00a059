"""The default measures catalogue (services/measures.py DEFAULT_MEASURES): without it a black or red listing would
bring nothing inside the approvals. Installed once; measures already there (same code) are left as edited."""

from django.db import migrations


def install(apps, schema_editor):
    from yiwang.credit.services.measures import DEFAULT_MEASURES

    Measure = apps.get_model("credit", "Measure")
    for code, name, list_type, effect, legal_basis, description in DEFAULT_MEASURES:
        Measure.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "list_type": str(list_type),
                "effect": str(effect),
                "legal_basis": legal_basis[:300],
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
