# privacy-audit: `make demo` runs the quarterly audit of the shipped sample, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SAMPLE := data_samples/inventory
SAMPLE_SNAPSHOT := data_samples/sample.duckdb
PERIOD ?= 2026-Q3

.PHONY: demo test lab lint format bench clean sample sample-snapshot system-deps postgres java

demo: sample-snapshot
	$(BIN)/privacy-audit run quarterly --snapshot $(SAMPLE_SNAPSHOT) --period $(PERIOD)

test: sample-snapshot system-deps postgres java
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest tests src/audit_lib --doctest-modules --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

# report.pdf (WeasyPrint) needs Pango, and the PDF is checked with poppler's tools: installed
# with apt-get when missing and run as root (elsewhere a note; the PDF tests then say what is missing).
system-deps: $(INSTALLED)
	@$(BIN)/python -c "import weasyprint" >/dev/null 2>&1 && command -v pdftoppm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils >/dev/null; \
	  else echo "note: --pdf needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils"; fi; }

# PostgreSQL's binaries for tests/test_database.py (it starts its own server, as the `postgres`
# user when root): Debian's package when `initdb` is neither on PATH nor in /usr/lib/postgresql.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Java 17+ for the Spark tests (pyspark runs in local mode): Debian's JRE when `java` is missing.
java:
	@command -v java >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# JupyterLab on the notebooks; their default parameters read the sample snapshot.
lab: sample-snapshot
	$(BIN)/jupyter lab src/audit_lib/notebooks

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(INSTALLED)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The performance table (bench/README.md): 3 runs at 100k, 1M and 10M rows, one at 100M (~40 min).
BENCH_SIZES ?= 100k,1m,10m,100m:1
bench: $(INSTALLED)
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES)

# Regenerate the committed sample export (deterministic for its seed).
sample: $(INSTALLED)
	rm -rf $(SAMPLE) $(SAMPLE_SNAPSHOT)
	$(BIN)/privacy-audit sample generate --out $(SAMPLE) --customers 2000 --seed 7

# The sample snapshot, rebuilt when missing, older than the export, or refused by this
# suite's `snapshot verify` (built by an older snapshot format).
sample-snapshot: $(SAMPLE_SNAPSHOT)
	@$(BIN)/privacy-audit snapshot verify $(SAMPLE_SNAPSHOT) >/dev/null 2>&1 || { \
	  rm -f $(SAMPLE_SNAPSHOT); $(BIN)/privacy-audit snapshot build $(SAMPLE) --out $(SAMPLE_SNAPSHOT); }

$(SAMPLE_SNAPSHOT): $(INSTALLED) $(wildcard $(SAMPLE)/*.csv)
	rm -f $@
	$(BIN)/privacy-audit snapshot build $(SAMPLE) --out $@

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lab,spark]'
	touch $@

clean:
	rm -rf $(VENV) $(SAMPLE_SNAPSHOT) .pytest_cache .ruff_cache
