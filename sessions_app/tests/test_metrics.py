"""/metrics: Prometheus text, for staff or the configured token only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app import metrics

pytestmark = pytest.mark.django_db


def test_anonymous_and_non_staff_are_refused(client, django_user_model):
    assert client.get(reverse("metrics")).status_code == 403
    client.force_login(django_user_model.objects.create_user("student", password="x"))
    assert client.get(reverse("metrics")).status_code == 403


def test_token_and_staff_get_prometheus_text(client, settings, host, make_quiz):
    settings.KNEWIT_METRICS_TOKEN = "scrape-me"
    assert client.get(reverse("metrics"), headers={"Authorization": "Bearer wrong"}).status_code == 403
    metrics.counters.observe_answer(0.03)
    response = client.get(reverse("metrics"), headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in ("knewit_open_sessions", "knewit_connected_sockets", "knewit_messages_in_total",
                 "knewit_messages_out_total", "knewit_answers_recorded_total",
                 "knewit_answer_seconds_count"):  # fmt: skip
        assert f"\n{name} " in "\n" + body
    assert 'knewit_answer_seconds_bucket{le="0.05"}' in body and 'le="+Inf"' in body
    client.force_login(host)  # hosts are staff
    assert client.get(reverse("metrics")).status_code == 200
