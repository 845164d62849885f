"""Forms of the pages: joining a game and starting a session."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sessions_app.engine.lobby import NAME_MAX


class JoinForm(forms.Form):
    code = forms.RegexField(
        label=_("Game PIN"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("A Game PIN is 6 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": 6, "pattern": r"\d{6}"}
        ),
    )
    nickname = forms.CharField(
        label=_("Nickname"), max_length=NAME_MAX, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "nickname", "maxlength": NAME_MAX}),
    )  # fmt: skip
    password = forms.CharField(
        label=_("Game password (only if the host set one)"), required=False, max_length=128,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
    )  # fmt: skip

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class StartSessionForm(forms.Form):
    quiz_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    show_live_results = forms.BooleanField(label=_("Show live results to students"), required=False)
    auto_advance = forms.BooleanField(label=_("Move on automatically after each reveal"), required=False)
    max_players = forms.IntegerField(label=_("Max players"), min_value=1, max_value=10_000, initial=2000)
    password = forms.CharField(label=_("Password (optional)"), required=False, max_length=128)
    # The teacher's tools (docs/PROTOCOL.md §3.1); left out, each is the session's default.
    score_by_accuracy = forms.BooleanField(label=_("Score by accuracy only"), required=False)
    misconception_threshold = forms.IntegerField(
        label=_("Misconception alert at (percent of answers)"), min_value=1, max_value=100, required=False
    )
    revote_scores = forms.BooleanField(
        label=_("A re-vote's answer scores, instead of the first"), required=False
    )

    SETTINGS = (
        "show_live_results", "auto_advance", "max_players", "password", "score_by_accuracy",
        "misconception_threshold", "revote_scores",
    )  # fmt: skip

    def settings(self) -> dict:
        data = self.cleaned_data
        return {key: data[key] for key in self.SETTINGS}
