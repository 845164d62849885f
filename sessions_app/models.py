"""Persisted facts of live sessions. Rules live in engine.py; these are only data."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from quizzes_app.models import Question, Quiz


def hash_secret(secret: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough (no salt or stretching)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class HostToken(models.Model):
    """An API token for WebSocket clients that act as a host; only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="host_tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False, help_text="A revoked token no longer grants host rights.")

    def __str__(self) -> str:
        return f"{self.user} token {self.pk}"


class GameSession(models.Model):
    class State(models.TextChoices):
        LOBBY = "lobby"
        QUESTION = "question"
        RESULTS = "results"
        FINISHED = "finished"

    code = models.CharField(max_length=6, db_index=True)
    quiz = models.ForeignKey(Quiz, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_sessions")
    state = models.CharField(max_length=10, choices=State.choices, default=State.LOBBY)
    settings = models.JSONField(default=dict, blank=True)
    password_hash = models.CharField(max_length=128, blank=True)
    locked = models.BooleanField(default=False)
    # -1 before the first question; otherwise the 0-based index of the current question.
    question_index = models.IntegerField(default=-1)
    current_question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    question_opened_at = models.DateTimeField(null=True, blank=True)
    question_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    advance_at = models.DateTimeField(null=True, blank=True, help_text="When auto-advance moves on.")
    revealed_count = models.IntegerField(default=0, help_text="Questions whose results were shown.")
    # Browser pages get HTML pushes; rendering them only matters once a page is watching.
    host_on_page = models.BooleanField(default=False)
    players_on_pages = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(state="finished"), name="unique_code_among_open_sessions"
            ),
        ]
        indexes = [models.Index(fields=["state", "question_deadline"])]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.FINISHED


class Player(models.Model):
    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="players")
    public_id = models.CharField(max_length=64)
    name = models.CharField(max_length=20)
    name_key = models.CharField(
        max_length=20, editable=False, help_text="Case-folded name, unique per session."
    )
    rejoin_token_hash = models.CharField(max_length=64, db_index=True, editable=False)
    score = models.IntegerField(default=0)
    correct_count = models.IntegerField(default=0)
    total_answer_ms = models.BigIntegerField(default=0, help_text="Tie-break: lower ranks first.")
    kicked = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True)
    latency_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "public_id"], name="unique_player_id_per_session"),
            models.UniqueConstraint(fields=["session", "name_key"], name="unique_name_per_session"),
        ]

    def __str__(self) -> str:
        return self.name


class Answer(models.Model):
    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="answers")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="answers")
    # PROTECT: a played question keeps its answers; results must outlive quiz edits.
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    question_index = models.IntegerField()
    # The option tapped, for kinds answered by one tap (single, truefalse, poll); else null.
    choice_idx = models.SmallIntegerField(null=True, blank=True)
    # Every other kind's answer, as checked (engine/judging.py): option indices (multi; order, in the
    # student's order), the typed text (text) or the number (slider); null for one-tap kinds.
    response = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField()
    response_ms = models.IntegerField()
    correct = models.BooleanField()
    points = models.IntegerField()
    msg_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["question_index", "received_at"]
        constraints = [
            models.UniqueConstraint(fields=["player", "question"], name="one_answer_per_player_question"),
            # A repeated msg_id is never applied twice, even while a later question is open.
            models.UniqueConstraint(
                fields=["player", "msg_id"], condition=~Q(msg_id=""), name="one_answer_per_player_msg_id"
            ),
        ]
        indexes = [models.Index(fields=["session", "question_index"])]

    def __str__(self) -> str:
        given = self.choice_idx if self.response is None else self.response
        return f"{self.player} q{self.question_index + 1}: {given}"


class ProcessedMessage(models.Model):
    """A state-changing message already applied, so a repeated msg_id is answered, not re-applied."""

    session = models.ForeignKey(
        GameSession, null=True, blank=True, on_delete=models.CASCADE, related_name="processed_messages"
    )
    actor = models.CharField(
        max_length=100, help_text="Who sent it: a host user, a session's host, a joiner."
    )
    msg_id = models.CharField(max_length=64)
    reply = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor", "msg_id"], name="unique_msg_id_per_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.msg_id}"
