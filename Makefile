# Two commands on a fresh machine: `make run` and `make test` (see README.md).
#
#   make test       the whole suite, exactly what CI runs (.ci/run); tests marked `services` run when
#                   DATABASE_URL and REDIS_URL are set and are skipped otherwise.
#   make test-fast  the inner loop: leaves out the tests marked slow, browser or services
#                   (pytest -m "not slow and not browser and not services").
#   Both pass PYTEST_ARGS on to pytest, e.g. `make test-fast PYTEST_ARGS="-x sessions_app"`.
#   The shared fixtures live in the pytest plugin knewit/testing.py (loaded from pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast setup lint standalone bench tls-demo clean messages compilemessages

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: setup
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow and not browser and not services" $(PYTEST_ARGS)

lint: $(BIN)/.installed standalone
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The repository stands alone: no tracked file may read or link the folder beside the checkout that
# the project began from. (The pattern is split so this line does not match itself.)
standalone:
	@if git grep -nI -e '\.\./shar''ed' -- . ; then echo "tracked files mention the sibling folder above"; exit 1; fi

# Translations of the interface: locale/<code>/LC_MESSAGES/django.po, and the django.mo compiled from
# each, are both committed, so `make run` and `make test` need no gettext tools. After marking or
# changing strings: `make messages` (extracts them into every .po), translate the new entries, then
# `make compilemessages`. Both need GNU gettext (`apt-get install gettext`). The test suite checks
# that no entry is missing, empty or fuzzy and that each .mo matches its .po
# (tests/test_translations.py).
LANGS := es fr de
I18N_IGNORE := --ignore=bench --ignore=tests --ignore='*/tests' --ignore=staticfiles --ignore=media --ignore=deploy

messages: $(BIN)/.installed
	$(BIN)/python manage.py makemessages $(addprefix -l ,$(LANGS)) --add-location=file --no-obsolete $(I18N_IGNORE)
	$(MAKE) compilemessages

compilemessages: $(BIN)/.installed
	$(BIN)/python manage.py compilemessages $(addprefix -l ,$(LANGS)) --ignore=.venv

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py --students 2000

# The production profile on this machine until Ctrl-C: nginx (self-signed TLS, deploy/nginx) on
# https://127.0.0.1:8443 in front of two Daphne workers, on PostgreSQL and Redis when they answer.
tls-demo: $(BIN)/.installed
	$(BIN)/python -m tests.tls_proxy

clean:
	rm -rf $(VENV) db.sqlite3* test_db.sqlite3*
