"""Keys get an API generation: existing keys keep speaking v0.22, new keys default to v0.27."""

from django.db import migrations, models

CHOICES = [
    ("v0.22", "RAGFlow v0.22 (ragflow-sdk 0.22.x)"),
    ("v0.27", "RAGFlow v0.27 (ragflow-sdk 0.27.x)"),
]


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="generation",
            field=models.CharField(
                choices=CHOICES,
                default="v0.22",
                help_text="Which ragflow-sdk generation the key's clients use.",
                max_length=8,
                verbose_name="API generation",
            ),
        ),
        migrations.AlterField(
            model_name="apikey",
            name="generation",
            field=models.CharField(
                choices=CHOICES,
                default="v0.27",
                help_text="Which ragflow-sdk generation the key's clients use.",
                max_length=8,
                verbose_name="API generation",
            ),
        ),
    ]
