# The scale-out topology (included by the Makefile): Debian's PostgreSQL + pgvector and Redis,
# nginx in front of several Daphne processes, several Celery workers, files on an S3 server.
.PHONY: cluster-deps run-cluster stop-cluster test-cluster bench-load

CLUSTER_TOOLS := $(or $(RAGSITE_CLUSTER_TOOLS),var/cluster-tools)
# Debian 12 ships PostgreSQL 15 but no pgvector package: it is built from Debian's own pgvector
# source package (the one trixie ships as postgresql-17-pgvector), against postgresql-server-dev-15.
PG_MAJOR   := 15
PGVECTOR   := /usr/share/postgresql/$(PG_MAJOR)/extension/vector.control
PGVECTOR_SRC := var/cluster-tools/pgvector-src
S3RVER     := $(CLUSTER_TOOLS)/node_modules/.bin/s3rver

cluster-deps: $(STAMP) ## Install what is missing of Debian's postgresql, redis-server, nginx, npm; build pgvector; npm s3rver
	@# Only the missing packages are asked for: a NodeSource nodejs ships its own npm and conflicts
	@# with Debian's npm package, so asking apt for npm (or nodejs) when npm runs breaks the install.
	@pkgs=""; \
	command -v redis-server >/dev/null || pkgs="$$pkgs redis-server"; \
	command -v nginx >/dev/null || pkgs="$$pkgs nginx"; \
	command -v npm >/dev/null || pkgs="$$pkgs npm"; \
	test -x /usr/lib/postgresql/$(PG_MAJOR)/bin/pg_ctl || pkgs="$$pkgs postgresql-$(PG_MAJOR)"; \
	test -x /usr/bin/pg_config || pkgs="$$pkgs postgresql-server-dev-$(PG_MAJOR)"; \
	test -f $(PGVECTOR) || { \
		command -v cc >/dev/null || pkgs="$$pkgs build-essential"; \
		test -f /usr/include/postgresql/$(PG_MAJOR)/server/postgres.h \
			|| pkgs="$$pkgs postgresql-server-dev-$(PG_MAJOR)"; }; \
	test -z "$$pkgs" || { echo "cluster-deps: installing$$pkgs"; $(SUDO) apt-get update \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$pkgs; }
	@test -f $(PGVECTOR) || $(MAKE) --no-print-directory pgvector
	@test -x $(S3RVER) || { mkdir -p $(CLUSTER_TOOLS) && \
		npm install --no-audit --no-fund --prefix $(CLUSTER_TOOLS) s3rver@3.7.1; }

.PHONY: pgvector
pgvector: ## Build and install pgvector 0.8.0 for Debian's PostgreSQL $(PG_MAJOR) (from Debian's source package)
	rm -rf $(PGVECTOR_SRC) && mkdir -p $(PGVECTOR_SRC)/lists/partial $(PGVECTOR_SRC)/cache/archives/partial
	echo "deb-src http://deb.debian.org/debian trixie main" > $(PGVECTOR_SRC)/sources.list
	# A private apt configuration: the system's sources and lists stay as they are.
	cd $(PGVECTOR_SRC) && APT="-o Dir::Etc::sourcelist=$$PWD/sources.list -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists=$$PWD/lists -o Dir::Cache=$$PWD/cache" && \
		apt-get $$APT update && apt-get $$APT source --download-only pgvector=0.8.0-1
	echo "867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0  pgvector_0.8.0.orig.tar.gz" \
		| (cd $(PGVECTOR_SRC) && sha256sum -c -)
	tar -xzf $(PGVECTOR_SRC)/pgvector_0.8.0.orig.tar.gz -C $(PGVECTOR_SRC)
	$(MAKE) -C $(PGVECTOR_SRC)/pgvector-0.8.0 PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config OPTFLAGS=""
	$(SUDO) $(MAKE) -C $(PGVECTOR_SRC)/pgvector-0.8.0 PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config install

run-cluster: cluster-deps ## PostgreSQL, Redis, S3, nginx, 2 Daphne, 2 Celery workers on http://127.0.0.1:9580/
	HF_HUB_OFFLINE=1 $(PY) -m ragsite.cluster

stop-cluster: ## Stop `make run-cluster` (and a PostgreSQL/Redis a killed one left running)
	$(PY) -m ragsite.cluster stop

# `make test` runs these too. RAGSITE_CLUSTER_REQUIRED: a missing part fails the tests, not skips them.
CLUSTER_PYTEST = RAGSITE_CLUSTER_REQUIRED=1 HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 \
	$(PY) -m pytest tests/cluster -m cluster -p no:cacheprovider $(ARGS)

test-cluster: cluster-deps ## Only the cluster's tests (tests/cluster, marker `cluster`; `make test` runs them too)
	$(CLUSTER_PYTEST)

bench-load: cluster-deps ## 50 clients (list, retrieval, completion, upload) on `make run` and on the cluster
	HF_HUB_OFFLINE=1 $(PY) -m bench.load $(ARGS)
