# ragsite developer tasks. `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help venv run test browser-deps office-deps lint fmt bench bench-ingest bench-quality clean-var bench-latency bench-chat bench-memory test-pythons

# Python 3.11, 3.12 or 3.13. PYTHON=/path/to/python3.x picks one; without it scripts/venv.sh
# takes python3, then python3.11/3.12/3.13 on PATH, then pyenv's, and stops with a message if none.
PYTHON ?=
# cpu (default): PyTorch's CPU build or a clear stop; cuda: PyPI's build; auto; or an index URL.
TORCH  ?= cpu
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Touched after a successful install: pip runs again only when pyproject.toml is newer.
STAMP  := $(VENV)/.installed
VAR    := $(or $(RAGSITE_VAR_DIR),var)
# apt-get needs root; CI is root, a laptop may have sudo.
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

help: ## List the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml scripts/venv.sh
	PYTHON='$(PYTHON)' TORCH='$(TORCH)' bash scripts/venv.sh $(VENV)
	touch $@

venv: $(STAMP) ## Create .venv (Python 3.11-3.13, CPU torch) and install the project with pip

run: $(STAMP) office-deps ## Start PostgreSQL, Valkey, Daphne and Celery on http://127.0.0.1:9380/
	$(PY) -m ragsite.launcher

browser-deps: # Debian's Chromium and a CJK font for the browser tests
	@test -x /usr/bin/chromium && dpkg -s fonts-wqy-microhei >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-wqy-microhei; }

# LibreOffice without a GUI reads .doc/.xls/.ppt/.rtf/.odt/.ods/.odp and makes Office previews
# PDFs: 73 packages, 104 MB to download, 325 MB on disk, 59 s here (README, Requirements).
# Optional: without it everything but those formats works, so a failed install only warns.
office-deps: # Debian's headless LibreOffice (writer, calc, impress; -nogui builds only)
	@command -v soffice >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends \
			libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui; } \
		|| echo "WARNING: LibreOffice could not be installed; .doc/.xls/.ppt/.rtf/.odt/.ods/.odp files will fail to parse."

# The suite, then the cluster's tests (tests/cluster, marker `cluster`) in a pytest of their own:
# each test runs once; both run even if the first fails. A missing cluster part fails, not skips.
test: $(STAMP) browser-deps office-deps cluster-deps ## ruff check, the pytest suite, then the cluster's tests (installs Chromium, LibreOffice and the cluster's Debian packages if missing)
	$(VENV)/bin/ruff check .
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(PY) -m pytest -m "not cluster"; suite=$$?; \
	$(CLUSTER_PYTEST); cluster=$$?; \
	echo "make test: suite exit $$suite, cluster tests exit $$cluster"; \
	test $$suite = 0 && test $$cluster = 0

# One venv per Python found (.venv-py3.11, ...), each installed and tested. TORCH=auto: the CPU
# build where it can be had, else PyPI's (CUDA) build. TEST_ARGS narrows the run.
PYTHONS   ?= 3.11 3.12 3.13
TEST_ARGS ?=
test-pythons: browser-deps office-deps ## Install and run the tests on each of Python 3.11, 3.12, 3.13 found (.venv-py3.X)
	PYTHONS='$(PYTHONS)' TORCH='$(if $(filter file,$(origin TORCH)),auto,$(TORCH))' \
		bash scripts/test-pythons.sh $(TEST_ARGS)

lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy .

fmt: $(STAMP) ## Format the code and apply safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# RAGSITE_URL (default http://127.0.0.1:9380); keys from RAGSITE_API_KEY_V022 / RAGSITE_API_KEY_V027,
# else new ones from `manage.py create_api_key ${RAGSITE_WALKTHROUGH_USER:-admin} --generation ...`.
.PHONY: walkthrough
walkthrough: $(STAMP) ## Seed walkthrough against `make run` with ragflow-sdk 0.22.1 and 0.27.3 (Python 3.13)
	$(PY) -m tests.sdk_clients walkthrough

bench: $(STAMP) ## Run bench/run.sh, if there are benchmarks
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "No benchmarks yet (bench/run.sh not found)."; fi

bench-ingest: $(STAMP) ## Time parsing ~220 pages per built-in embedding model (bench/ingest.py)
	$(PY) -m bench.ingest

bench-quality: $(STAMP) ## nDCG@10/recall@10 of keyword, vector and hybrid retrieval (bench/retrieval_quality)
	$(PY) -m bench.retrieval_quality.run

bench-latency: $(STAMP) ## p50/p95 of POST /api/v1/retrieval at 100k chunks, HNSW vs exact (bench/retrieval_latency)
	HF_HUB_OFFLINE=1 $(PY) -m bench.retrieval_latency

bench-memory: $(STAMP) ## RSS/PSS of every process of the stack, idle and after parsing + chatting (bench/memory.py)
	HF_HUB_OFFLINE=1 $(PY) -m bench.memory

bench-chat: $(STAMP) ## p50/p95 chat TTFT and total at 10k chunks, built-in vs local model (bench/chat_latency)
	HF_HUB_OFFLINE=1 $(PY) -m bench.chat_latency

.PHONY: bench-parsing
bench-parsing: $(STAMP) ## Table cells, reading order, running headers, pages/min on real PDFs from Debian (bench/parsing)
	$(PY) -m bench.parsing.run $(ARGS)

.PHONY: bench-real
bench-real: $(STAMP) ## nDCG@10 of each retrieval leg vs BM25 on Debian doc pages, en+zh (bench/real_docs)
	HF_HUB_OFFLINE=1 $(PY) -m bench.real_docs $(ARGS)

.PHONY: bench-raptor
bench-raptor: $(STAMP) ## Multi-hop retrieval with and without RAPTOR summaries, test chat model (bench/raptor_multihop)
	HF_HUB_OFFLINE=1 $(PY) -m bench.raptor_multihop $(ARGS)

.PHONY: bench-graph
bench-graph: $(STAMP) ## Two-hop retrieval: hybrid, + RAPTOR, + knowledge graph (use_kg), + both, test chat model (bench/graph_multihop)
	HF_HUB_OFFLINE=1 $(PY) -m bench.graph_multihop $(ARGS)

.PHONY: bench-answers
bench-answers: $(STAMP) ## Built-in answers holding the fact, and citing it, on the Debian doc pages (bench/answer_quality)
	HF_HUB_OFFLINE=1 $(PY) -m bench.answer_quality $(ARGS)

clean-var: ## Delete var/ (database, uploads): stop `make run`, then make clean-var CONFIRM=yes
	@test "$(CONFIRM)" = yes || { echo "This deletes $(VAR)/ (the database and uploaded files)."; \
		echo "Stop 'make run' first, then run: make clean-var CONFIRM=yes"; exit 1; }
	rm -rf -- $(VAR)

# The scale-out topology (PostgreSQL, Redis, a proxy, several web and worker processes, S3).
-include cluster.mk
