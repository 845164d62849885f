"""The interface's translations (locale/<code>/LC_MESSAGES/django.po and the .mo beside it, both committed).

Every language of settings.LANGUAGES but English has a catalog in which no entry is empty or fuzzy,
placeholders and markup match the English, each .mo is the compiled .po, and (with GNU gettext, which
CI installs) nothing marked for translation in the code or templates is missing from the catalogs.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdf]|\{[a-z_]+\}")  # Python's, and live.js's {name}
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    out, chars = [], iter(text[1:-1])
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    for char in chars:
        out.append(escapes[next(chars)] if char == "\\" else char)
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") first."""
    entries, entry, last = [], Entry(), None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if last is not None:
                entries.append(entry)
            entry, last = Entry(), None
            continue
        if line.startswith("#~"):
            entry.obsolete, last = True, last or "obsolete"
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line):
            last, value = match.group(1), _unquote(match.group(2))
            if last.startswith("msgstr"):
                entry.msgstr.append(value)
            else:
                setattr(entry, last, value)
        elif line.startswith('"') and last is not None:
            if last.startswith("msgstr"):
                entry.msgstr[-1] += _unquote(line)
            else:
                setattr(entry, last, getattr(entry, last) + _unquote(line))
        else:
            raise AssertionError(f"{path}: cannot read {raw!r}")
    return entries


def catalog(code: str) -> Path:
    return ROOT / "locale" / code / "LC_MESSAGES" / "django.po"


def messages(code: str) -> tuple[Entry, list[Entry]]:
    header, *entries = parse_po(catalog(code))
    assert header.msgid == "" and header.msgctxt is None, "the header comes first"
    return header, entries


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_entry_is_translated_and_none_is_fuzzy(code):
    header, entries = messages(code)
    head = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert head.get("Language") == code and "fuzzy" not in header.flags
    nplurals = int(re.search(r"nplurals=(\d+)", head["Plural-Forms"]).group(1))
    assert entries, f"{code}: an empty catalog"
    problems = []
    for entry in entries:
        if entry.obsolete:
            problems.append(f"obsolete (make messages drops them): {entry.msgid!r}")
        elif "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not entry.msgstr or not all(entry.msgstr):
            problems.append(f"empty: {entry.msgid!r}")
        elif entry.msgid_plural is not None and len(entry.msgstr) != nplurals:
            problems.append(f"{len(entry.msgstr)} plural forms, not {nplurals}: {entry.msgid!r}")
    assert not problems, f"{catalog(code)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_and_markup(code):
    problems = []
    for entry in messages(code)[1]:
        english = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        wanted = set().union(*(PLACEHOLDER.findall(text) for text in english))
        tags = sorted(TAG.findall(english[-1]))
        for text in entry.msgstr:
            # A singular may leave its number out ("Un joueur"), never add one; markup stays exactly.
            found = set(PLACEHOLDER.findall(text))
            if not found <= wanted or (entry.msgid_plural is None and found != wanted):
                problems.append(f"placeholders {sorted(found)} for {sorted(wanted)}: {entry.msgid!r}")
            if sorted(TAG.findall(text)) != tags:
                problems.append(f"markup {TAG.findall(text)} for {tags}: {entry.msgid!r}")
    assert not problems, f"{catalog(code)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_mo_is_compiled_from_its_po(code):
    """The committed .mo says what the .po says (`make compilemessages` after editing a .po)."""
    with catalog(code).with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # the plain mapping gettext reads
    expected: dict = {}
    for entry in messages(code)[1]:
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[0]
        else:
            expected.update({(msgid, n): text for n, text in enumerate(entry.msgstr)})
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, "stale .mo: run `make compilemessages`"


@pytest.mark.parametrize("code", TRANSLATED)
def test_msgfmt_finds_nothing_wrong(code):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext is not installed (CI installs it: apt-get install gettext)")
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalog(code))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "fuzzy" not in done.stderr and "untranslated" not in done.stderr, done.stderr


def make_ignores() -> list[str]:
    """`make messages`' --ignore patterns (I18N_IGNORE in the Makefile): one list, used by both."""
    line = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("I18N_IGNORE")
    )
    return [pattern.strip("'") for pattern in re.findall(r"--ignore=(\S+)", line)]


@pytest.mark.slow
def test_every_string_marked_for_translation_is_in_every_catalog(tmp_path, monkeypatch, settings):
    """`make messages` on a copy of the tree adds and drops nothing: no string marked in the code or
    templates waits for a translation, and no entry is left from a string since removed.

    A copy, because makemessages writes to the `locale` folder above each file it reads."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (CI installs it: apt-get install gettext)")
    from django.core.management import call_command

    tree = tmp_path / "tree"
    skipped = shutil.ignore_patterns(".*", "__pycache__", "*.sqlite3*", "media", "staticfiles", "*.mo")
    shutil.copytree(ROOT, tree, ignore=skipped)
    monkeypatch.chdir(tree)
    # The settings fixture, so the translation caches are reset now and after (setting_changed).
    settings.LOCALE_PATHS = [tree / "locale"]
    call_command(
        "makemessages", locale=TRANSLATED, ignore_patterns=make_ignores(), no_obsolete=True, verbosity=0
    )
    for code in TRANSLATED:
        committed = {entry.key for entry in messages(code)[1]}
        extracted = {
            entry.key for entry in parse_po(tree / "locale" / code / "LC_MESSAGES" / "django.po")[1:]
        }
        assert extracted - committed == set(), f"{code}: marked but not in the catalog (`make messages`)"
        assert committed - extracted == set(), f"{code}: in the catalog but marked nowhere (`make messages`)"
