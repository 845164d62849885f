from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sessions_app", "0006_teacher_tools"),
    ]

    operations = [
        migrations.AddField(
            model_name="gamesession",
            name="host_languages",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="gamesession",
            name="player_languages",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="player",
            name="language",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
    ]
