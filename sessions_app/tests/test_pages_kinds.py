"""The phone and host pages for every question kind (issue #14): what each kind is answered with, that
nothing gives the answer away before the reveal, the "locked in" stage from a reply alone and from a
reload, the reveal shared by all players, and the host's histogram and answer key per kind."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from quizzes_app.models import Choice, Question, Quiz
from sessions_app import engine
from sessions_app.audiences import HOST, PLAYERS
from sessions_app.engine import Push, judging
from sessions_app.models import GameSession
from sessions_app.tests.test_views import as_player, assert_csp_safe, assert_user_text_is_inert
from sessions_app.web import pages, render

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


# One question per kind: (prompt, choices, slider fields, a right answer, a wrong answer). Texts that
# appear nowhere else on a page, so finding one means it leaked.
KINDS = {
    "single": ("Largest planet?", [("Mars", False), ("Jupiter", True), ("Venus", False)], {},
               {"answer_idx": 1}, {"answer_idx": 0}),
    "multi": ("Rocky planets?",
              [("Mercury", True), ("Saturn", False), ("Venus", True), ("Neptune", False)], {},
              {"answer_idxs": [0, 2]}, {"answer_idxs": [1]}),
    "truefalse": ("The Sun is a star.", [("True", True), ("False", False)], {},
                  {"answer_idx": 0}, {"answer_idx": 1}),
    "poll": ("Favourite season?", [("Spring", False), ("Summer", False), ("Autumn", False)], {},
             {"answer_idx": 2}, {"answer_idx": 0}),
    "text": ("Largest volcano on Mars?", [("Olympus Mons", True), ("Mons Olympus", True)], {},
             {"text": "  OLYMPUS   mons "}, {"text": "Vesuvius"}),
    "slider": ("How much is it?", [], {"slider_min": 0, "slider_max": 10, "slider_step": 0.25,
                                       "slider_correct": 6.5, "slider_tolerance": 0.25},
               {"value": 6.75}, {"value": 2.0}),
    "order": ("Smallest first", [("Atom", False), ("Cell", False), ("Mouse", False), ("Whale", False)], {},
              None, None),  # the answers depend on the shuffle: see answer_for
}  # fmt: skip
EXPLANATION = "Because the textbook says so."
DASH = "\N{EN DASH}"
ALT = "A diagram of the thing"


def make_kind_quiz(host, kind: str, *, image: str = "", explanation: str = EXPLANATION) -> Quiz:
    prompt, choices, slider, _, _ = KINDS[kind]
    quiz = Quiz.objects.create(title=f"Kind {kind}", owner=host, default_time_limit=20)
    question = Question.objects.create(
        quiz=quiz,
        order=0,
        kind=kind,
        prompt=prompt,
        explanation=explanation,
        image_alt=ALT if image else "",
        **slider,
    )
    if image:  # the file's name is all a page needs (its URL)
        Question.objects.filter(pk=question.pk).update(image=image)
    Choice.objects.bulk_create(
        Choice(question=question, order=i, text=text, is_correct=ok) for i, (text, ok) in enumerate(choices)
    )
    return quiz


class Game:
    """One session of a one-question quiz of `kind`, two players (Ada, Bob), driven on a fixed clock."""

    def __init__(self, host, kind: str, **quiz_kw):
        self.host, self.kind = host, kind
        quiz = make_kind_quiz(host, kind, **quiz_kw)
        self.session = engine.session_create(
            host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://testserver"
        ).session
        self.players, self.tokens = [], []
        for name in ("Ada", "Bob"):
            outcome = engine.player_join(
                code=self.session.code,
                raw_name=name,
                password=None,
                requested_id=None,
                msg_id=None,
                now=at(0),
            )
            self.players.append(outcome.player)
            self.tokens.append(outcome.reply["rejoin_token"])
        GameSession.objects.filter(pk=self.session.pk).update(
            host_on_page=True, players_on_pages=True, host_languages=["en"], player_languages=["en"]
        )

    def start(self):
        return engine.quiz_start(session_pk=self.session.pk, host=self.host, now=at(1))

    def shown(self) -> list[str]:
        """The option texts in the order players see them."""
        return pages.players_view(self.fresh(), at(2))["question"]["texts"]

    def answer_for(self, right: bool) -> dict:
        if self.kind == "order":
            texts, correct = self.shown(), [t for t, _ in KINDS["order"][1]]
            order = [texts.index(t) for t in correct]
            return {"order": order if right else list(range(len(texts)))}
        return KINDS[self.kind][3 if right else 4]

    def answer(self, player: int, right: bool = True):
        return engine.answer_submit(
            session_pk=self.session.pk, player_pk=self.players[player].pk, msg_id=None, now=at(2 + player),
            answer=self.answer_for(right),
        )  # fmt: skip

    def end(self):
        return engine.question_end(session_pk=self.session.pk, host=self.host, now=at(5))

    def fresh(self) -> GameSession:
        return GameSession.objects.select_related("quiz", "current_question").get(pk=self.session.pk)

    def play_page(self, client, player: int = 0) -> str:
        as_player(client, self.session, self.tokens[player])
        return client.get(f"/play/{self.session.code}/").content.decode()

    def host_page(self, client) -> str:
        client.force_login(self.host)
        return client.get(f"/host/session/{self.session.code}/").content.decode()

    def pushed(self, payload: dict, audience: str) -> str:
        """The HTML this broadcast sends to the pages of one audience (host or players)."""
        html = {
            each: text for each, _, text in render.push_html(self.session.code, "all", payload, self.fresh())
        }
        return html.get(audience, "")


def push_of(outcome, msg_type: str) -> dict:
    return next(e.payload for e in outcome.events if isinstance(e, Push) and e.payload["type"] == msg_type)


class Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def section(html: str, region_id: str) -> str:
    """The HTML of one region (a <section id=...>) of a page."""
    start = html.index(f'id="{region_id}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def game(host, request):
    return Game(host, request.param)


def kinds(*names):
    return pytest.mark.parametrize("game", names or list(KINDS), indirect=True)


# --- the phone's question stage -----------------------------------------------------------------------


@kinds("single", "poll", "truefalse")
def test_one_tap_kinds_are_big_shape_buttons(client, game):
    game.start()
    html = game.play_page(client)
    buttons = Tags(section(html, "stage")).find("button", name="answer_idx")
    texts = [t for t, _ in KINDS[game.kind][1]]
    assert [b["value"] for b in buttons] == [str(i) for i in range(len(texts))]
    assert all("ws-send" in b and re.search(r"\bshape-\w+", b["class"]) for b in buttons)
    assert 'hx-vals=\'{"type": "answer.submit"}\'' in html
    for text in texts:
        assert f'<span class="option-text" hx-disable>{text}</span>' in html
    assert ("· Poll" in html) == (game.kind == "poll")


@kinds("multi")
def test_multi_is_toggles_in_a_form_with_a_submit_button(client, game):
    game.start()
    stage = section(game.play_page(client), "stage")
    tags = Tags(stage)
    (form,) = tags.find("form")
    assert "ws-send" in form and form["hx-vals"] == '{"type": "answer.submit"}'
    boxes = tags.find("input", type="checkbox", name="answer_idxs")
    assert [b["value"] for b in boxes] == ["0", "1", "2", "3"]
    assert len(tags.find("label")) == 4  # each checkbox is inside its labelled toggle
    assert tags.find("button", type="submit")
    assert "Pick every answer that fits" in stage


@kinds("text")
def test_text_is_a_labelled_input_of_80_characters(client, game):
    game.start()
    tags = Tags(section(game.play_page(client), "stage"))
    (field,) = tags.find("input", name="text")
    assert field["type"] == "text" and field["maxlength"] == "80" and field["autocomplete"] == "off"
    assert "required" in field
    assert tags.find("label", **{"for": field["id"]})
    assert tags.find("button", type="submit") and "ws-send" in tags.find("form")[0]


@kinds("slider")
def test_slider_is_a_labelled_range_with_its_value_shown(client, game):
    game.start()
    stage = section(game.play_page(client), "stage")
    tags = Tags(stage)
    (field,) = tags.find("input", name="value")
    assert (field["type"], field["min"], field["max"], field["step"]) == ("range", "0", "10", "0.25")
    assert field["value"] == "5"  # the middle
    assert tags.find("label", **{"for": field["id"]})
    (output,) = tags.find("output")
    assert output["for"] == field["id"]
    assert tags.find("button", type="submit")


@kinds("order")
def test_order_items_come_shuffled_with_hidden_positions_and_labelled_arrows(client, game):
    game.start()
    stage = section(game.play_page(client), "stage")
    tags = Tags(stage)
    shown = game.shown()
    assert sorted(shown) == ["Atom", "Cell", "Mouse", "Whale"] and shown != ["Atom", "Cell", "Mouse", "Whale"]
    assert [i["value"] for i in tags.find("input", type="hidden", name="order")] == ["0", "1", "2", "3"]
    labels = [b["aria-label"] for b in tags.find("button") if "aria-label" in b]
    assert labels == [f"Move {t} {way}" for t in shown for way in ("up", "down")]
    assert all(b["type"] == "button" for b in tags.find("button") if "aria-label" in b)  # they never submit
    assert stage.index(shown[0]) < stage.index(shown[1]) < stage.index(shown[2]) < stage.index(shown[3])
    assert tags.find("button", type="submit")


@kinds()
def test_question_pages_are_csp_safe(client, game):
    game.start()
    assert_csp_safe(game.play_page(client))
    assert_csp_safe(game.host_page(client))


# --- nothing gives the answer away before the reveal -----------------------------------------------

PLAYER_MARKERS = ("correct", "✓", "verdict", "right answer", "accepted", EXPLANATION)


def assert_no_answer_in(html: str, kind: str, *, player: bool) -> None:
    """Neither the answer key of this kind's question nor (on a phone) any word of a verdict."""
    lowered = html.lower()
    if kind == "text":  # (a player's own typed answer, "OLYMPUS mons", may show on their page)
        assert "Olympus Mons" not in html and "Mons Olympus" not in html
    if kind == "slider":
        assert "6.5" not in html
    if kind == "order" and "Atom" in html:
        places = [html.index(t) for t in ("Atom", "Cell", "Mouse", "Whale")]
        assert places != sorted(places), "the items appear in their right order"
    assert "is-correct" not in html and EXPLANATION not in html
    if player:
        for marker in PLAYER_MARKERS:
            assert marker.lower() not in lowered, marker
    else:
        assert "Correct answer" not in html and "✓" not in html


@kinds()
def test_nothing_before_the_reveal_gives_the_answer_away(client, game):
    opened = push_of(game.start(), "question.next")
    assert_no_answer_in(game.play_page(client), game.kind, player=True)
    assert_no_answer_in(game.host_page(client), game.kind, player=False)
    assert_no_answer_in(game.pushed(opened, PLAYERS), game.kind, player=True)
    assert_no_answer_in(game.pushed(opened, HOST), game.kind, player=False)

    # The right answer, and nothing may say so yet (an order question: a wrong one, as a player's page
    # lists the player's own order once it is in).
    recorded = game.answer(0, right=game.kind != "order").reply
    assert_no_answer_in(render.personal_html(recorded), game.kind, player=True)
    assert_no_answer_in(game.play_page(client), game.kind, player=True)
    histogram = {"type": "histogram", "question_num": 1, "bins": [], "answered": 1, "total": 2}
    assert_no_answer_in(game.pushed(histogram, HOST), game.kind, player=False)
    assert_no_answer_in(game.host_page(client), game.kind, player=False)


@kinds("text")
def test_the_host_never_shows_typed_answers_during_the_question(client, game):
    game.start()
    game.answer(1, right=False)  # "Vesuvius"
    html = game.host_page(client)
    assert "Vesuvius" not in html
    assert "1 of 2 answered" in section(html, "histogram")
    assert "shows at the reveal" in html
    game.end()
    assert "Vesuvius" in section(game.host_page(client), "histogram")


# --- after answering: "Answer locked in" -------------------------------------------------------------

# What each kind's locked stage says about Ada's right answer, from the reply (positions only) and
# from a reload (the stored answer, named by its texts).
LOCKED = {
    "single": ([r'data-fill-pos="1">option 2 \(diamond\)'], ["You chose", ">Jupiter<"]),
    "truefalse": ([r'data-fill-pos="0">option 1 \(triangle\)'], [">True<"]),
    "poll": ([r'data-fill-pos="2">option 3 \(circle\)'], [">Autumn<"]),
    "multi": ([r'data-fill-pos="0">option 1', r'data-fill-pos="2">option 3'],
              ["You chose:", ">Mercury<", ">Venus<"]),
    "text": ([r"“OLYMPUS mons”"], ["“OLYMPUS mons”"]),  # as kept: trimmed, single spaces
    "slider": ([r'class="locked-answer locked-value">6.75<'], ['class="locked-answer locked-value">6.75<']),
    "order": ([r"Your order, first to last:"], ["Your order, first to last:"]),
}  # fmt: skip


@kinds()
def test_the_reply_locks_the_stage_with_what_was_answered_without_the_database(
    client, game, django_assert_num_queries
):
    game.start()
    recorded = game.answer(0).reply
    with django_assert_num_queries(0):
        html = render.personal_html(recorded)
    assert (
        'id="stage"' in html and "Answer locked in" in html and "<form" not in html and "<button" not in html
    )
    assert 'data-question-num="1"' in html  # live.js names the options from the stage they were picked on
    for pattern in LOCKED[game.kind][0]:
        assert re.search(pattern, html), pattern
    if game.kind == "order":
        positions = re.findall(r'data-fill-pos="(\d)"', html)
        assert [int(p) for p in positions] == recorded["order"]
    assert_csp_safe(html)


@kinds()
def test_a_reload_after_answering_shows_the_same_locked_stage_named_in_words(client, game):
    game.start()
    game.answer(0)
    stage = section(game.play_page(client), "stage")
    assert "Answer locked in" in stage and "<form" not in stage and "answer_idx" not in stage
    assert "data-fill-pos" not in stage  # the page knows the texts
    for text in LOCKED[game.kind][1]:
        assert text in stage, text
    if game.kind == "order":
        items = re.findall(r'<span class="option-name" hx-disable>(\w+)</span>', stage)
        assert items == ["Atom", "Cell", "Mouse", "Whale"]  # Ada's order: the right one


@kinds("text")
def test_typed_answers_are_escaped_and_inert_wherever_they_show(client, game):
    game.start()
    markup = "<b hx-get=/x>hi</b>"
    recorded = engine.answer_submit(
        session_pk=game.session.pk,
        player_pk=game.players[0].pk,
        msg_id=None,
        now=at(2),
        answer={"text": markup},
    ).reply
    assert_user_text_is_inert(render.personal_html(recorded), markup)
    assert_user_text_is_inert(game.play_page(client), markup)
    game.end()
    assert_user_text_is_inert(game.host_page(client), markup)  # the top answers at the reveal


# --- the reveal on phones ----------------------------------------------------------------------------

# What the shared reveal region says, per kind.
REVEALED = {
    "single": ["Correct answer", "Jupiter"],
    "truefalse": ["Correct answer", "True"],
    "multi": ["Correct answers", "Mercury, Venus"],
    "text": ["Accepted answers", "<li>Olympus Mons</li><li>Mons Olympus</li>"],
    "slider": ["Correct answer", "<strong>6.5</strong>", "(± 0.25)"],
    "order": ["Correct order", "<li>Atom</li><li>Cell</li><li>Mouse</li><li>Whale</li>"],
    "poll": ["About this poll"],
}


@kinds()
def test_the_reveal_is_one_region_for_all_players_beside_each_verdict(
    client, game, django_assert_max_num_queries
):
    game.start()
    game.answer(0)
    closed = game.end()
    results = push_of(closed, "question.results")
    session = game.fresh()
    html = render.push_html(game.session.code, "all", results, session)
    assert [audience for audience, _, _ in html] == [HOST, PLAYERS]  # rendered once, for every player's page
    with django_assert_max_num_queries(1):  # the players' count; the question's facts are read already
        ((_, _, reveal),) = render.push_html(game.session.code, PLAYERS, results, session)
    assert reveal.startswith('<section id="player-reveal" hx-swap-oob="true"') and 'id="stage"' not in reveal
    for text in REVEALED[game.kind]:
        assert text in reveal, text
    assert EXPLANATION in reveal

    verdicts = render.personal_pages(
        game.session.code,
        [(p.player_id, p.payload) for p in closed.events if isinstance(p, Push) and p.player_id],
    )["en"]
    assert set(verdicts) == {p.public_id for p in game.players}
    assert all('id="stage"' in v and "player-reveal" not in v for v in verdicts.values())

    page = game.play_page(client)  # a reload in results draws the same reveal
    assert re.search(r'class="player-reveal( is-poll)?"', page)  # shown: not is-empty
    for text in REVEALED[game.kind]:
        assert text in section(page, "player-reveal"), text

    opened = engine.quiz_stop(session_pk=game.session.pk, host=game.host, now=at(6))
    cleared = game.pushed(push_of(opened, "quiz.finished"), PLAYERS)
    assert 'class="player-reveal is-empty"' in cleared and EXPLANATION not in cleared


def test_the_next_question_clears_the_reveal(client, host, make_quiz):
    quiz = make_quiz(host, explanation=EXPLANATION)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://x").session
    GameSession.objects.filter(pk=session.pk).update(players_on_pages=True, player_languages=["en"])
    engine.quiz_start(session_pk=session.pk, host=host, now=at(1))
    engine.question_end(session_pk=session.pk, host=host, now=at(2))
    opened = push_of(engine.question_next(session_pk=session.pk, host=host, now=at(3)), "question.next")
    html = {each: text for each, _, text in render.push_html(session.code, "all", opened)}[PLAYERS]
    reveal = section(html, "player-reveal")
    assert "is-empty" in reveal and "Correct" not in reveal and EXPLANATION not in html
    assert "Capital of Italy?" in section(html, "stage")


@kinds("single")
def test_no_reveal_region_before_the_reveal_and_no_explanation_when_none(client, host, game):
    game.start()
    assert 'class="player-reveal is-empty"' in game.play_page(client)
    plain = Game(host, "single", explanation="")
    plain.start()
    plain.end()
    reveal = section(plain.play_page(client), "player-reveal")
    assert "Jupiter" in reveal and 'class="explanation"' not in reveal


@kinds("poll")
def test_a_poll_counts_votes_and_never_says_wrong(client, game):
    game.start()
    game.answer(0)
    closed = game.end()
    results = {p.player_id: p.payload for p in closed.events if isinstance(p, Push) and p.player_id}
    voted, silent = (render.personal_html(results[p.public_id]) for p in game.players)
    assert "Vote counted" in voted and "No vote" in silent
    pages_now = [voted, silent, game.play_page(client, 0), game.play_page(client, 1), game.host_page(client)]
    for html in pages_now:
        lowered = html.lower()
        for word in ("wrong", "not this time", "correct", "points</dt>", "✗"):
            assert word not in lowered, word
    host = game.host_page(client)
    assert (
        "Correct answer" not in host and "is-correct" not in host and "Spring" in section(host, "histogram")
    )


# --- the host's histogram and answer key ----------------------------------------------------------


def bars(html: str) -> list[tuple[str, str]]:
    """(label, count) of each bar or column of the host's histogram."""
    histogram = section(html, "histogram")
    rows = re.findall(
        r'class="(?:bar-text|column-label)">([^<]*)<.*?class="bar-count">(\d+)<'
        r'|class="bar-count">(\d+)<.*?class="column-label">([^<]*)<',
        histogram,
        re.S,
    )
    return [(a or d, b or c) for a, b, c, d in rows]


@kinds("single", "truefalse", "poll", "multi")
def test_the_host_histogram_has_a_bar_per_option(client, game):
    game.start()
    game.answer(0, right=True)
    game.answer(1, right=False)
    html = game.host_page(client)
    texts = [t for t, _ in KINDS[game.kind][1]]
    counts = dict(bars(html))
    assert list(counts) == texts
    picked = [game.answer_for(True), game.answer_for(False)]
    for i, text in enumerate(texts):
        expected = sum(1 for a in picked if i in a.get("answer_idxs", [a.get("answer_idx")]))
        assert counts[text] == str(expected), text
    assert "2 of 2 answered" in html  # players, not picks (a multi answer picks several)


@kinds("slider")
def test_the_host_histogram_of_a_slider_counts_along_its_range(client, game):
    game.start()
    game.answer(0, right=True)  # 6.75
    game.answer(1, right=False)  # 2.0
    html = game.host_page(client)
    counts = bars(html)
    assert [label for label, _ in counts] == [f"{i}{DASH}{i}.75" for i in range(9)] + [f"9{DASH}10"]
    assert dict(counts)[f"6{DASH}6.75"] == "1" and dict(counts)[f"2{DASH}2.75"] == "1"
    assert sum(int(n) for _, n in counts) == 2
    assert "is-correct" not in section(html, "histogram")
    game.end()
    correct = section(game.host_page(client), "histogram")
    assert re.search(rf'class="column is-correct">.*?6{DASH}6.75 <strong class="tick">✓', correct, re.S)


@kinds("order")
def test_the_host_histogram_of_an_order_question_counts_right_orders(client, game):
    game.start()
    game.answer(0, right=True)
    game.answer(1, right=False)
    html = game.host_page(client)
    assert "2 of 2 answered, 1 in the right order" in html  # read out too (data-announce)
    assert bars(html) == [("In the right order", "1"), ("In another order", "1")]


@kinds("text")
def test_the_host_reveal_of_a_text_question_lists_top_answers_accepted_marked(client, game):
    game.start()
    game.answer(0, right=True)  # "OLYMPUS mons": accepted
    game.answer(1, right=False)  # "Vesuvius"
    assert bars(game.host_page(client)) == []  # only the count while the question is open
    game.end()
    html = game.host_page(client)
    histogram = section(html, "histogram")
    assert bars(html) == [("OLYMPUS mons", "1"), ("Vesuvius", "1")]
    assert re.search(r'is-correct">.*?OLYMPUS mons</span> <strong class="tick">✓', histogram, re.S)
    assert "accepted ones are marked ✓" in histogram
    assert not re.search(r"Vesuvius</span> <strong", histogram)


# What the host's stage says at the reveal, per kind.
HOST_KEY = {
    "single": [r'Correct answer: <strong hx-disable><span class="key-option">.*?Jupiter</span></strong>'],
    "truefalse": [r"Correct answer: <strong hx-disable>.*?True</span>"],
    "multi": [r"Correct answers: <strong hx-disable>.*?Mercury</span>.*?Venus</span></strong>"],
    "slider": [r"Correct answer: <strong>6.5</strong> \(± 0.25\)"],
    "text": [r'Accepted answers: <strong hx-disable><span class="accepted">Olympus Mons</span> · '
             r'<span class="accepted">Mons Olympus</span>'],
    "order": [r'Correct order:</p>\s*<ol class="correct-order" hx-disable>'
              r".*?Atom.*?Cell.*?Mouse.*?Whale.*?</ol>"],
    "poll": [],
}  # fmt: skip


@kinds()
def test_the_host_reveal_shows_each_kinds_answer_and_the_explanation(client, game):
    game.start()
    game.answer(0)
    game.end()
    stage = section(game.host_page(client), "host-stage")
    for pattern in HOST_KEY[game.kind]:
        assert re.search(pattern, stage, re.S), pattern
    assert f'<p class="explanation" hx-disable>{EXPLANATION}</p>' in stage
    if game.kind == "poll":
        assert "Correct" not in stage and "is-correct" not in stage
    if game.kind == "multi":
        marked = re.findall(r'<li class="option opt(\d) [^"]*is-correct', stage)
        assert marked == ["0", "2"]  # every right option, and only those
    assert_csp_safe(stage)


@kinds("single", "order", "slider")
def test_the_image_shows_with_its_description_on_phone_and_host(client, host, game):
    pictured = Game(host, game.kind, image="questions/diagram.png")
    pictured.start()
    expected = f'<img class="question-image" src="/media/questions/diagram.png" alt="{ALT}" loading="eager">'
    assert expected in section(pictured.play_page(client), "stage")
    assert expected in section(pictured.host_page(client), "host-stage")
    game.start()
    assert "<img" not in section(game.play_page(client), "stage")


@pytest.mark.parametrize(
    ("bounds", "labels"),
    [
        ((0, 100, 1), [f"{i}{DASH}{i + 9}" for i in range(0, 90, 10)] + [f"90{DASH}100"]),
        ((1, 5, 1), ["1", "2", "3", "4", "5"]),
        ((0, 20, 1), [f"{i}{DASH}{i + 1}" for i in range(0, 18, 2)] + [f"18{DASH}20"]),
        ((0, 1, 0.5), ["0", "0.5", "1"]),
        ((-10, 10, 5), ["-10", "-5", "0", "5", "10"]),
    ],
)
def test_slider_parts_are_named_by_the_values_in_them(bounds, labels):
    from quizzes_app.kinds import Slider

    low, high, step = bounds
    assert list(judging.slider_bin_labels(Slider(low, high, step, low, 0))) == labels
