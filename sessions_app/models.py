"""Persisted facts of live sessions. Rules live in engine.py; these are only data."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="host_tokens", verbose_name=_("user")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("token hash"))
    label = models.CharField(max_length=100, blank=True, verbose_name=_("label"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used"))
    revoked = models.BooleanField(
        default=False, help_text=_("A revoked token no longer grants host rights."), verbose_name=_("revoked")
    )

    class Meta:
        verbose_name = _("host token")
        verbose_name_plural = _("host tokens")

    def __str__(self) -> str:
        return f"{self.user} token {self.pk}"


class GameSession(models.Model):
    class State(models.TextChoices):
        LOBBY = "lobby", pgettext_lazy("session state", "Lobby")
        QUESTION = "question", pgettext_lazy("session state", "Question")
        RESULTS = "results", pgettext_lazy("session state", "Results")
        FINISHED = "finished", pgettext_lazy("session state", "Finished")

    code = models.CharField(max_length=6, db_index=True, verbose_name=_("game PIN"))
    quiz = models.ForeignKey(
        Quiz,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("quiz"),
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="game_sessions",
        verbose_name=_("host"),
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.LOBBY, verbose_name=_("state")
    )
    settings = models.JSONField(default=dict, blank=True, verbose_name=_("settings"))
    password_hash = models.CharField(max_length=128, blank=True, verbose_name=_("password hash"))
    locked = models.BooleanField(default=False, verbose_name=_("locked"))
    # -1 before the first question; otherwise the 0-based index of the current question.
    question_index = models.IntegerField(default=-1, verbose_name=_("question index"))
    current_question = models.ForeignKey(
        Question,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("current question"),
    )
    question_opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("question opened"))
    # The class's deadline, shown on the projector; players with extra time have later ones of their own.
    question_deadline = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("question deadline")
    )
    # The last personal deadline (the class's unless someone has extra time): the latest the open
    # round can stay open. The close Wake and the sweep go by it.
    question_closes_at = models.DateTimeField(null=True, blank=True, verbose_name=_("question closes"))
    # 1, or 2 while (and after) the open question is re-voted (docs/PROTOCOL.md `question.revote`).
    question_round = models.PositiveSmallIntegerField(default=1, verbose_name=_("question round"))
    advance_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When auto-advance moves on."), verbose_name=_("moves on")
    )
    revealed_count = models.IntegerField(
        default=0, help_text=_("Questions whose results were shown."), verbose_name=_("questions revealed")
    )
    # Browser pages get HTML pushes; rendering them only matters once a page is watching.
    host_on_page = models.BooleanField(default=False, verbose_name=_("host on a page"))
    players_on_pages = models.BooleanField(default=False, verbose_name=_("players on pages"))
    # The languages of the pages open on this session (codes of settings.LANGUAGES, each added when a
    # page socket connects, web/pages.py page_opened): a broadcast's HTML is rendered once per
    # audience and language in these, whichever worker renders it.
    host_languages = models.JSONField(default=list, blank=True, verbose_name=_("host's page languages"))
    player_languages = models.JSONField(default=list, blank=True, verbose_name=_("players' page languages"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed"))

    class Meta:
        verbose_name = _("game session")
        verbose_name_plural = _("game sessions")
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
    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="players", verbose_name=_("session")
    )
    public_id = models.CharField(max_length=64, verbose_name=_("player id"))
    name = models.CharField(max_length=20, verbose_name=_("name"))
    name_key = models.CharField(
        max_length=20,
        editable=False,
        help_text=_("Case-folded name, unique per session."),
        verbose_name=_("name key"),
    )
    rejoin_token_hash = models.CharField(
        max_length=64, db_index=True, editable=False, verbose_name=_("rejoin token hash")
    )
    score = models.IntegerField(default=0, verbose_name=_("score"))
    correct_count = models.IntegerField(default=0, verbose_name=_("correct answers"))
    total_answer_ms = models.BigIntegerField(
        default=0, help_text=_("Tie-break: lower ranks first."), verbose_name=_("total answer time (ms)")
    )
    kicked = models.BooleanField(default=False, verbose_name=_("kicked"))
    joined_at = models.DateTimeField(auto_now_add=True, verbose_name=_("joined"))
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("last seen"))
    latency_ms = models.IntegerField(null=True, blank=True, verbose_name=_("latency (ms)"))
    # The language of this player's page (set when it connects); "" for a protocol client. Their own
    # verdicts and final rank are rendered in it.
    language = models.CharField(max_length=16, blank=True, default="", verbose_name=_("language"))
    # Extra time the host gave this student (`player.accommodate`), in percent of each question's
    # limit: 100, 150 or 200. Whole numbers, so that the SQL and Python sides of the tie-break time
    # (ranking.paced_ms) divide alike.
    time_percent = models.PositiveSmallIntegerField(
        default=100,
        choices=[(100, _("no extra time")), (150, _("1.5 times the time")), (200, _("twice the time"))],
        verbose_name=_("extra time"),
    )

    class Meta:
        verbose_name = _("player")
        verbose_name_plural = _("players")
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "public_id"], name="unique_player_id_per_session"),
            models.UniqueConstraint(fields=["session", "name_key"], name="unique_name_per_session"),
        ]
        # The class is counted at every join and every page that opens (how many joined, is it
        # full): from this index alone, not from 2,000 rows read one by one (bench/RESULTS.md, #16).
        indexes = [models.Index(fields=["session", "kicked"], name="players_in_session")]

    def __str__(self) -> str:
        return self.name

    @property
    def time_factor(self) -> float:
        return time_factor(self.time_percent)


class Answer(models.Model):
    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="answers", verbose_name=_("session")
    )
    player = models.ForeignKey(
        Player, on_delete=models.CASCADE, related_name="answers", verbose_name=_("player")
    )
    # PROTECT: a played question keeps its answers; results must outlive quiz edits.
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    question_index = models.IntegerField(verbose_name=_("question index"))
    # The option tapped, for kinds answered by one tap (single, truefalse, poll); else null.
    choice_idx = models.SmallIntegerField(null=True, blank=True, verbose_name=_("option"))
    # Every other kind's answer, as checked (engine/judging.py): option indices (multi; order, in the
    # student's order), the typed text (text) or the number (slider); null for one-tap kinds.
    response = models.JSONField(null=True, blank=True, verbose_name=_("response"))
    received_at = models.DateTimeField(verbose_name=_("received"))
    response_ms = models.IntegerField(verbose_name=_("response time (ms)"))
    correct = models.BooleanField(verbose_name=_("correct"))
    points = models.IntegerField(verbose_name=_("points"))
    msg_id = models.CharField(max_length=64, blank=True, verbose_name=_("message id"))
    # 1, or 2 for an answer to the question's re-vote.
    round = models.PositiveSmallIntegerField(default=1, verbose_name=_("round"))
    # The player's extra time when they answered (Player.time_percent then): what their deadline
    # and their speed score went by, so a regrade scores the answer again exactly.
    time_percent = models.PositiveSmallIntegerField(default=100, verbose_name=_("time limit (percent)"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
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

    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="regrades", verbose_name=_("session")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    key = models.JSONField(verbose_name=_("answer key"))
    regraded_at = models.DateTimeField(verbose_name=_("regraded"))

    class Meta:
        verbose_name = _("regrade")
        verbose_name_plural = _("regrades")
        constraints = [
            models.UniqueConstraint(fields=["session", "question"], name="one_regrade_per_session_question"),
        ]

    def __str__(self) -> str:
        return f"{self.session.code} {self.question_id} regraded"


class ProcessedMessage(models.Model):
    """A state-changing message already applied, so a repeated msg_id is answered, not re-applied."""

    session = models.ForeignKey(
        GameSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="processed_messages",
        verbose_name=_("session"),
    )
    actor = models.CharField(
        max_length=100,
        help_text=_("Who sent it: a host user, a session's host, a joiner."),
        verbose_name=_("actor"),
    )
    msg_id = models.CharField(max_length=64, verbose_name=_("message id"))
    reply = models.JSONField(null=True, verbose_name=_("reply"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("processed message")
        verbose_name_plural = _("processed messages")
        constraints = [
            models.UniqueConstraint(fields=["actor", "msg_id"], name="unique_msg_id_per_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.msg_id}"
