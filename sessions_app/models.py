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


def time_factor(time_percent: int) -> float:
    """An extra-time percent (100, 150, 200) as the factor the wire and people say: 1, 1.5, 2."""
    return time_percent // 100 if time_percent % 100 == 0 else time_percent / 100


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
    # The class's deadline, shown on the projector; players with extra time have later ones of their own.
    question_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    # The last personal deadline (the class's unless someone has extra time): the latest the open
    # round can stay open. The close Wake and the sweep go by it.
    question_closes_at = models.DateTimeField(null=True, blank=True)
    # 1, or 2 while (and after) the open question is re-voted (docs/PROTOCOL.md `question.revote`).
    question_round = models.PositiveSmallIntegerField(default=1)
    advance_at = models.DateTimeField(null=True, blank=True, help_text="When auto-advance moves on.")
    revealed_count = models.IntegerField(default=0, help_text="Questions whose results were shown.")
    # Browser pages get HTML pushes; rendering them only matters once a page is watching.
    host_on_page = models.BooleanField(default=False)
    players_on_pages = models.BooleanField(default=False)
    # The languages of the pages open on this session (codes of settings.LANGUAGES, each added when a
    # page socket connects, web/pages.py page_opened): a broadcast's HTML is rendered once per
    # audience and language in these, whichever worker renders it.
    host_languages = models.JSONField(default=list, blank=True)
    player_languages = models.JSONField(default=list, blank=True)
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
    def scores_revote(self) -> bool:
        """Whether a re-vote's answer counts instead of the first (setting `revote_scores`)."""
        return bool(self.settings.get("revote_scores"))

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
    # The language of this player's page (set when it connects); "" for a protocol client. Their own
    # verdicts and final rank are rendered in it.
    language = models.CharField(max_length=16, blank=True, default="")
    # Extra time the host gave this student (`player.accommodate`), in percent of each question's
    # limit: 100, 150 or 200. Whole numbers, so that the SQL and Python sides of the tie-break time
    # (ranking.paced_ms) divide alike.
    time_percent = models.PositiveSmallIntegerField(
        default=100, choices=[(100, "no extra time"), (150, "1.5 times the time"), (200, "twice the time")]
    )

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "public_id"], name="unique_player_id_per_session"),
            models.UniqueConstraint(fields=["session", "name_key"], name="unique_name_per_session"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def time_factor(self) -> float:
        return time_factor(self.time_percent)


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
    # 1, or 2 for an answer to the question's re-vote.
    round = models.PositiveSmallIntegerField(default=1)
    # The player's extra time when they answered (Player.time_percent then): what their deadline
    # and their speed score went by, so a regrade scores the answer again exactly.
    time_percent = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["question_index", "round", "received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "question", "round"], name="one_answer_per_player_question_round"
            ),
            # A repeated msg_id is never applied twice, even while a later question is open.
            models.UniqueConstraint(
                fields=["player", "msg_id"], condition=~Q(msg_id=""), name="one_answer_per_player_msg_id"
            ),
        ]
        indexes = [models.Index(fields=["session", "question_index"])]

    def __str__(self) -> str:
        given = self.choice_idx if self.response is None else self.response
        again = " (re-vote)" if self.round == 2 else ""
        return f"{self.player} q{self.question_index + 1}{again}: {given}"


class Regrade(models.Model):
    """A question's answer key as the host set it after the game, for this session only.

    `key` holds the kind's answer key (engine/regrade.py): {"correct_idxs": [...]} (single,
    truefalse, multi: choice indices), {"accepted": [...]} (text), {"correct": x, "tolerance": y}
    (slider) or {"correct_order": [...]} (order: choice indices, first to last). The answers'
    verdicts and points, and the players' totals, are recomputed from it when it is set.
    """

    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="regrades")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    key = models.JSONField()
    regraded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "question"], name="one_regrade_per_session_question"),
        ]

    def __str__(self) -> str:
        return f"{self.session.code} {self.question_id} regraded"


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
