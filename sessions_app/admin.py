"""Sessions in the admin are a read-only record: the engine writes them, people only look."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from sessions_app.models import Answer, GameSession, HostToken, Player


class ReadOnlyMixin:
    """Nobody adds or edits session data by hand; it would contradict the scores."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.action(description=gettext_lazy("Revoke selected tokens"), permissions=["change"])
def revoke_tokens(modeladmin: HostTokenAdmin, request: HttpRequest, queryset: QuerySet[HostToken]) -> None:
    """Revoked tokens stay listed, so their use can still be traced."""
    count = queryset.filter(revoked=False).update(revoked=True)
    revoked = ngettext("Revoked %(count)s token.", "Revoked %(count)s tokens.", count) % {"count": count}
    modeladmin.message_user(request, revoked, messages.SUCCESS)


@admin.register(HostToken)
class HostTokenAdmin(admin.ModelAdmin):
    # token_hash is left out everywhere: even a hash is no business of the page.
    fields = ("user", "label", "created_at", "last_used_at", "revoked")
    readonly_fields = ("user", "created_at", "last_used_at")
    list_display = ("user", "label", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "label")
    actions = [revoke_tokens]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token is shown once, when it is made: `manage.py host_token USERNAME`.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[HostToken]:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)


class PlayerInline(ReadOnlyMixin, admin.TabularInline):
    model = Player
    fields = ("name", "score", "correct_count", "total_answer_ms", "kicked", "joined_at", "last_seen")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(GameSession)
class GameSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "quiz", "host", "state", "player_count", "created_at")
    list_filter = ("state", ("quiz", admin.RelatedOnlyFieldListFilter), "created_at")
    list_select_related = ("quiz", "host")
    date_hierarchy = "created_at"
    search_fields = ("code", "quiz__title")
    exclude = ("password_hash",)
    inlines = [PlayerInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GameSession]:
        queryset = super().get_queryset(request).annotate(player_count=Count("players"))
        return queryset if request.user.is_superuser else queryset.filter(host=request.user)

    @admin.display(description=gettext_lazy("Players"), ordering="player_count")
    def player_count(self, session: GameSession) -> int:
        return session.player_count

    def has_delete_permission(self, request: HttpRequest, obj: GameSession | None = None) -> bool:
        return request.user.is_superuser

    def get_deleted_objects(self, objs, request: HttpRequest):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Players and answers are read-only on their own, but they go with their session.
        perms_needed -= {Player._meta.verbose_name, Answer._meta.verbose_name}
        return deleted, counts, perms_needed, protected


@admin.register(Player)
class PlayerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "session", "score", "correct_count", "kicked", "joined_at")
    list_filter = ("kicked", "joined_at")
    list_select_related = ("session",)
    search_fields = ("name", "session__code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Player]:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(session__host=request.user)


@admin.register(Answer)
class AnswerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("player", "session", "question_index", "choice_idx", "correct", "points", "response_ms")
    list_filter = ("correct", "received_at")
    list_select_related = ("player", "session", "question")
    search_fields = ("player__name", "session__code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        queryset = super().get_queryset(request).select_related("player", "session", "question")
        return queryset if request.user.is_superuser else queryset.filter(session__host=request.user)
