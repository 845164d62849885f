"""/metrics: Prometheus text, for staff or the configured token only.

The worker's figures are process-global and other tests move them too: compare before and after.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sessions_app import engine, metrics
from sessions_app.models import Answer, GameSession

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me"


@pytest.fixture
def scrape(client, settings):
    """Read /metrics with the token: {(sample name, labels): value}."""
    settings.KNEWIT_METRICS_TOKEN = TOKEN

    def read() -> dict[tuple[str, tuple], float]:
        response = client.get(reverse("metrics"), headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return read


@pytest.fixture
def question_open(host, make_quiz):
    """A session showing its first question, and two players."""
    quiz = make_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://x").session
    now = timezone.now()
    players = [
        engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=now
        ).player
        for name in ("Ada", "Bo")
    ]
    engine.quiz_start(session_pk=session.pk, host=host, now=now)
    return session, players


def answer(session, player, idx=0):
    return engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=idx, msg_id=None, now=timezone.now()
    )


def recorded() -> float:
    return metrics.REGISTRY.get_sample_value("knewit_answers_recorded_total")


def test_anonymous_and_non_staff_are_refused(client, django_user_model):
    assert client.get(reverse("metrics")).status_code == 403
    client.force_login(django_user_model.objects.create_user("student", password="x"))
    assert client.get(reverse("metrics")).status_code == 403


def test_token_and_staff_get_prometheus_text(client, settings, host):
    settings.KNEWIT_METRICS_TOKEN = TOKEN
    assert client.get(reverse("metrics"), headers={"Authorization": "Bearer wrong"}).status_code == 403
    response = client.get(reverse("metrics"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    client.force_login(host)  # hosts are staff
    assert client.get(reverse("metrics")).status_code == 200


def test_the_scrape_parses_and_names_every_figure(scrape):
    before = scrape()
    metrics.answer_seconds.observe(0.03)
    metrics.messages_in.inc()
    metrics.messages_out.inc(2)
    metrics.sockets.inc()
    try:
        after = scrape()
    finally:
        metrics.sockets.dec()
    names = {name for name, _ in after}
    assert {
        "knewit_open_sessions", "knewit_answers_recorded_total", "knewit_connected_sockets",
        "knewit_messages_in_total", "knewit_messages_out_total", "knewit_answer_seconds_bucket",
        "knewit_answer_seconds_sum", "knewit_answer_seconds_count",
        "process_resident_memory_bytes", "python_gc_collections_total", "python_info",
    } <= names  # fmt: skip
    buckets = [dict(labels)["le"] for name, labels in after if name == "knewit_answer_seconds_bucket"]
    assert buckets == [*(str(b) for b in metrics.ANSWER_BUCKETS_S), "+Inf"]

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before[key]

    assert delta("knewit_answer_seconds_count") == 1
    assert delta("knewit_answer_seconds_bucket", le="0.05") == 1
    assert delta("knewit_answer_seconds_bucket", le="0.025") == 0
    assert delta("knewit_messages_in_total") == 1 and delta("knewit_messages_out_total") == 2
    assert delta("knewit_connected_sockets") == 1


def test_open_sessions_is_the_sites_unfinished_sessions(scrape, question_open):
    session, _ = question_open
    open_now = GameSession.objects.exclude(state=GameSession.State.FINISHED).count()
    assert open_now >= 1 and scrape()[("knewit_open_sessions", ())] == open_now
    GameSession.objects.filter(pk=session.pk).update(state=GameSession.State.FINISHED)
    assert scrape()[("knewit_open_sessions", ())] == open_now - 1


def test_answers_recorded_counts_inserts_and_never_falls(
    question_open, scrape, django_capture_on_commit_callbacks
):
    session, (ada, bo) = question_open
    before = recorded()
    with django_capture_on_commit_callbacks(execute=True):
        answer(session, ada)
        with pytest.raises(engine.EngineError):
            answer(session, ada, idx=1)  # refused by the unique constraint: not inserted, not counted
        answer(session, bo)
    assert Answer.objects.filter(session=session).count() == 2
    assert recorded() == before + 2
    session.delete()
    assert not Answer.objects.filter(session_id=session.pk).exists()
    assert recorded() == before + 2
    assert scrape()[("knewit_answers_recorded_total", ())] == before + 2


def test_answers_rolled_back_are_not_counted(question_open, django_capture_on_commit_callbacks):
    """answers_submit retries a batch one by one when its COMMIT fails: only committed rows count."""
    session, (ada, _) = question_open
    before = recorded()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError, match="roll back"):
        with transaction.atomic():
            answer(session, ada)
            raise RuntimeError("roll back")
    assert not Answer.objects.filter(session=session).exists()
    assert recorded() == before


def test_the_scrape_does_not_read_the_answers_table(question_open, scrape):
    session, (ada, _) = question_open
    answer(session, ada)
    with CaptureQueriesContext(connection) as queries:
        scrape()
    table = Answer._meta.db_table
    assert not [q["sql"] for q in queries if table in q["sql"]]
    assert len([q for q in queries if GameSession._meta.db_table in q["sql"]]) == 1
