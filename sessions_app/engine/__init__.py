"""The rules of a live quiz: plain functions over the models, one transaction each, time passed in.

Each command returns an Outcome: the reply for the sender and the events that say what happened.
The engine knows nothing of sockets or pages; the live layer (sessions_app/live/effects.py) turns
its events into frames. By concept:

- lobby.py: sessions and players (create, load, lock, close, kick, join, resume, presence);
  session_settings.py: the settings a session is created with
- rounds.py: the question cycle (start, next, end, stop, re-vote, close, finish, auto-advance);
  reveal.py: what a close tells (the results, each player's verdict, a re-vote beside the first round)
- answers.py: answers judged one by one and recorded in batches; scores.py: what an answer scores,
  which answer of a question counts, and the players' totals
- extra_time.py: a student's own deadline (`player.accommodate`), and who is still answering
- insights.py: the host's alerts at a reveal (a shared misconception, an answer key to check)
- regrade.py: a question's answer key set again after the game, everything recomputed;
  answer_keys.py: keys as data, and which answers are "the same answer"
- judging.py: every per-kind rule of a question
- (the one ranking rule is sessions_app/ranking.py, shared with the reads and the report)
- idempotency.py: msg_id memory
- events.py: EngineError, Outcome and the events
"""

from sessions_app.engine.answers import (
    AnswerAttempt,
    answer_submit,
    answers_submit,
    grace,
    question_facts,
    score_for,
)
from sessions_app.engine.events import ALL, HOST, PLAYER, PLAYERS, EngineError, Outcome, Push, Refresh, Wake
from sessions_app.engine.extra_time import player_accommodate
from sessions_app.engine.idempotency import remembered
from sessions_app.engine.lobby import (
    check_playable,
    clean_name,
    host_resume,
    host_session,
    new_player_id,
    player_join,
    player_kick,
    player_left,
    player_resume,
    players_seen,
    quiz_list,
    quiz_load,
    quiz_save,
    session_close,
    session_create,
    session_lock,
    valid_player_id,
)
from sessions_app.engine.regrade import regrade_question
from sessions_app.engine.rounds import (
    auto_advance,
    due_wakes,
    question_close,
    question_end,
    question_next,
    question_revote,
    quiz_start,
    quiz_stop,
    wake,
)
from sessions_app.engine.session_settings import clean_settings

__all__ = [
    "ALL", "HOST", "PLAYER", "PLAYERS", "AnswerAttempt", "EngineError", "Outcome", "Push", "Refresh", "Wake",
    "answer_submit", "answers_submit", "auto_advance", "check_playable", "clean_name", "clean_settings",
    "due_wakes", "grace", "host_resume", "host_session", "new_player_id", "player_accommodate", "player_join",
    "player_kick", "player_left", "player_resume", "players_seen", "question_close", "question_end",
    "question_facts", "question_next", "question_revote", "quiz_list", "quiz_load", "quiz_save", "quiz_start",
    "quiz_stop", "regrade_question", "remembered", "score_for", "session_close", "session_create",
    "session_lock", "valid_player_id", "wake",
]  # fmt: skip
