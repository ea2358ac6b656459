# Two commands for a newcomer: `make run` and `make test` (see README).
VENV     ?= .venv
PYTHON   ?= python3
PIP      := $(VENV)/bin/pip
FLASK    := $(VENV)/bin/flask --app wsgi
CHROMIUM ?= /usr/bin/chromium
HOST     ?= 127.0.0.1
PORT     ?= 5000

.PHONY: run test install chromium bench screenshots clean

# The virtual environment, reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Migrate, seed the demo on a new database, serve on SQLite in development mode. Links in
# mail, the demo's seeded ones too, point at the address served (PUBLIC_URL, unless set). On any address but loopback the interactive debugger
# (which runs Python for whoever reaches it) is off, and a warning says why.
LOOPBACK := $(filter 127.% localhost ::1,$(HOST))
run: install
	FLASK_DEBUG=1 $(FLASK) db upgrade
	PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} FLASK_DEBUG=1 $(FLASK) seed-demo --if-empty
	@if [ -z "$(LOOPBACK)" ]; then \
	  echo "WARNING: serving the development server on $(HOST), reachable from other machines."; \
	  echo "WARNING: the debugger is off, but this is not a production setup: anyone who can reach"; \
	  echo "WARNING: it can log in with the demo passwords. See README, Production."; \
	fi
	PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} FLASK_DEBUG=1 $(FLASK) run --host $(HOST) --port $(PORT) \
	  $(if $(LOOPBACK),,--no-debugger)

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Type checks (config in pyproject.toml), then the whole suite on SQLite, or on
# TEST_DATABASE_URL when it is set: one pytest-xdist worker per CPU, each with its own
# database, a test file's tests on one worker (the phone-width summary reads its file's).
test: install chromium
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n auto --dist loadfile

# Benchmarks (README, Performance): builds its own PostgreSQL database and servers.
bench: install
	$(VENV)/bin/python -m bench.run

# The README's pictures, taken from a demo served on a throwaway database (docs/screenshots/).
screenshots: install chromium
	$(VENV)/bin/python docs/make_screenshots.py

clean:
	rm -rf $(VENV) instance/*.sqlite3 *.egg-info
