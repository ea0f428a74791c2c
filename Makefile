# Creative Clusters — build, test, demo. Works on a fresh Debian 12 machine as root:
#   make demo   generate the demo region and run the analysis through the plugin's provider
#   make test   run the test suite (headless)
# Both install what they need (Debian packages, a venv for pip-only tools) when it is missing.

SHELL := /bin/bash
SYS_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
REF_VENV := .venv-ref
PLUGIN := creative_clusters_plugin
BUILD := build
DIST := dist
OUT := demo_output
APT_PACKAGES := qgis python3-qgis qgis-providers python3-geopandas python3-rasterio python3-scipy \
	python3-sklearn python3-rtree python3-skimage python3-venv python3-pip xvfb xauth poppler-utils
QGIS_PROFILE ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default
export QT_QPA_PLATFORM ?= offscreen
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps venv refenv build package deploy demo test test-core bench screenshots model lint clean postgis \
	transup transcompile

help:
	@echo "make demo | make test | make package | make deploy | make bench | make screenshots | make clean"

# --- installation ------------------------------------------------------------------------------
deps: .deps-ok
.deps-ok:
	@if ! $(SYS_PYTHON) -c "import qgis.core, geopandas, rasterio, scipy, sklearn, skimage, rtree" 2>/dev/null \
	   || ! command -v xvfb-run >/dev/null || ! command -v pdftotext >/dev/null || ! test -x /usr/bin/qgis_process.bin; then \
		echo "Installing Debian packages: $(APT_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi
	@$(SYS_PYTHON) -c "import qgis.core, geopandas, rasterio, scipy, sklearn, skimage" && touch $@

venv: $(VENV)/.ok
$(VENV)/.ok: .deps-ok requirements-test.txt
	$(SYS_PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	@touch $@

# reference tools (esda/libpysal) in their own venv, called as a subprocess by tests and benchmarks
refenv: $(REF_VENV)/.ok
$(REF_VENV)/.ok: requirements-reference.txt
	$(SYS_PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-reference.txt \
		|| (echo "WARNING: reference tools (esda) could not be installed; comparisons against them will skip"; true)
	@# optional second peer for the hotspot benchmark (pygeoda); the benchmark skips it when absent
	$(REF_VENV)/bin/python -m pip install -q --disable-pip-version-check pygeoda==0.1.3 \
		|| echo "NOTE: pygeoda not installed; the benchmark leaves it out"
	@touch $@

# --- build and packaging ---------------------------------------------------------------------------
build: .deps-ok
	rm -rf $(BUILD)/$(PLUGIN)
	mkdir -p $(BUILD)/$(PLUGIN)
	cp -r $(PLUGIN)/. $(BUILD)/$(PLUGIN)/
	cp metadata.txt LICENSE $(BUILD)/$(PLUGIN)/
	cp -r resources $(BUILD)/$(PLUGIN)/resources
	find $(BUILD)/$(PLUGIN) -name '__pycache__' -type d -prune -exec rm -rf {} +

package: build
	mkdir -p $(DIST)
	rm -f $(DIST)/$(PLUGIN).zip
	cd $(BUILD) && $(SYS_PYTHON) -m zipfile -c ../$(DIST)/$(PLUGIN).zip $(PLUGIN)
	@echo "Wrote $(DIST)/$(PLUGIN).zip (install with QGIS > Plugins > Manage and Install Plugins > Install from ZIP)"

deploy: build
	mkdir -p "$(QGIS_PROFILE)/python/plugins"
	rm -rf "$(QGIS_PROFILE)/python/plugins/$(PLUGIN)"
	cp -r $(BUILD)/$(PLUGIN) "$(QGIS_PROFILE)/python/plugins/$(PLUGIN)"
	@echo "Installed into $(QGIS_PROFILE)/python/plugins/$(PLUGIN); enable it in QGIS > Plugins."

# --- the two README commands -----------------------------------------------------------------------
demo: .deps-ok build
	$(SYS_PYTHON) scripts/run_demo.py --output $(OUT)

test: venv refenv build postgis lint
	$(PY) -m pytest tests $(PYTEST_ARGS)

# translations: collect the strings marked with tr() into i18n/*.ts (edit them in Qt Linguist), compile to .qm
LOCALES ?= fr de cy
transup:
	@command -v pylupdate5 >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pyqt5-dev-tools >/dev/null)
	mkdir -p $(PLUGIN)/i18n
	pylupdate5 -noobsolete $$(find $(PLUGIN) -name '*.py' | sort) -ts $(foreach l,$(LOCALES),$(PLUGIN)/i18n/creative_clusters_$(l).ts)

transcompile:
	@command -v lrelease >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qttools5-dev-tools >/dev/null)
	for ts in $(PLUGIN)/i18n/*.ts; do lrelease -silent $$ts -qm $${ts%.ts}.qm; done

# ruff (pyflakes errors) and flake8-qgis's QGIS and Qt6 rules (QGS1xx, QGS4xx); settings in ruff.toml, .flake8
lint: venv
	$(VENV)/bin/ruff check creative_clusters_plugin tests scripts benchmarks
	$(VENV)/bin/flake8 creative_clusters_plugin tests scripts benchmarks

# A local PostgreSQL with PostGIS for the tests that read a PostGIS table through QGIS's provider. Best effort:
# when it cannot be installed or started, those tests skip. Root connects over the local socket (a superuser
# role of its own) to the database cc_test.
postgis:
	@if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then \
		echo "Installing PostgreSQL and PostGIS for the PostGIS tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null 2>&1 \
			|| echo "NOTE: PostGIS could not be installed; the PostGIS tests will skip"; \
	fi
	@-cluster=$$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $$1" "$$2}'); \
	if [ -n "$$cluster" ]; then \
		pg_ctlcluster $$cluster start >/dev/null 2>&1; \
		su postgres -c "createuser -s $$(id -un)" >/dev/null 2>&1; \
		su postgres -c "createdb cc_test" >/dev/null 2>&1; \
		su postgres -c "psql -q -d cc_test -c 'CREATE EXTENSION IF NOT EXISTS postgis'" >/dev/null 2>&1; \
	fi; true

test-core: venv
	$(PY) -m pytest tests/core $(PYTEST_ARGS)

bench: venv refenv build
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

screenshots: venv build
	xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb $(PY) scripts/screenshots.py --output screenshots
	$(SYS_PYTHON) scripts/real_data_atlas.py --output screenshots --eps 150
	@for pdf in $(OUT)/atlas.pdf $(OUT)/hotspot_map.pdf screenshots/sheffield_atlas.pdf; do \
		if [ -f $$pdf ]; then pdftoppm -r 60 -png $$pdf screenshots/pdf_$$(basename $$pdf .pdf); fi; done
	@echo "Look at every page: screenshots/pdf_*.png"

# rebuild the shipped Processing model from the registered algorithms (checks every parameter name)
model: .deps-ok
	$(SYS_PYTHON) scripts/build_model.py

clean:
	rm -rf $(BUILD) $(DIST) $(OUT) screenshots .pytest_cache
