"""msg_id: a repeated state-changing message is answered with its first reply, not applied again."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction

from sessions_app.engine.events import PLAYER, Outcome, Push
from sessions_app.models import ProcessedMessage


def remembered(
    *, actor: str, msg_id: str | None, session_pk: int | None, apply: Callable[[], Outcome]
) -> Outcome:
    """Run a state-changing command once per (actor, msg_id); repeats get the first reply again."""
    if not msg_id:
        return apply()
    try:
        with transaction.atomic():
            prior = ProcessedMessage.objects.filter(actor=actor, msg_id=msg_id).first()
            if prior is not None:
                return _duplicate(prior)
            outcome = apply()
            # A broadcast's first frame stands for a reply; a frame meant for one player (a kick's
            # `kicked`) is not the sender's to receive again.
            broadcasts = (e.payload for e in outcome.events if isinstance(e, Push) and e.audience != PLAYER)
            first = outcome.reply or next(broadcasts, None)
            ProcessedMessage.objects.create(session_id=session_pk, actor=actor, msg_id=msg_id, reply=first)
            return outcome
    except IntegrityError:
        # A concurrent copy of this message committed first; ours rolled back whole.
        return _duplicate(ProcessedMessage.objects.get(actor=actor, msg_id=msg_id))


def _duplicate(prior: ProcessedMessage) -> Outcome:
    return Outcome(reply={**prior.reply, "duplicate": True} if prior.reply else None)
