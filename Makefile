# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs:
# system packages with apt-get where missing, Python packages into .venv from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint bench bench-ocr install sysdeps testdeps ocrdeps reportdeps clean

DEMO := $(BIN)/ordermill ingest samples --out out/demo --state-dir out/demo-state

demo: install ocrdeps
	@rm -rf out/demo out/demo-state
	@echo "== ordermill ingest samples/ --out out/demo"
	@$(DEMO); code=$$?; \
	  echo "exit code $$code (1 = ran, some rows rejected: the samples hold bad rows on purpose)"; \
	  [ $$code -le 1 ]
	@echo "== the batch:"; ls -l out/demo/*/
	@echo "== first rejects (source, row, codes):"; \
	  cut -d, -f1-4 out/demo/*/rejects.csv | head -8
	@echo "== the mailed POs (samples/mail/*.eml: an xlsx attachment, a table in the body):"; \
	  grep -h '\.eml/' out/demo/*/orders.csv | cut -d, -f2-6 | head -8
	@echo "== the same again: the ledger knows these files, nothing is output twice"
	@$(DEMO)
	@echo "== the daily report from the ledger (HTML page, and the same as PDF):"
	@$(BIN)/ordermill report --state-dir out/demo-state --out out/demo-report.html
	@$(BIN)/ordermill report --state-dir out/demo-state --format pdf --out out/demo-report.pdf

# Lint first: CI runs `make test` (.ci/run), so a ruff or mypy failure fails CI too.
test: lint testdeps
	$(BIN)/python -m pytest

# The benchmark suite (minutes; not part of the tests): see bench/README.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# OCR of faxed POs against the synthetic corpus's truth, per fax level: rows right,
# automation, silent errors, CPU s/page (bench/README.md, "OCR"; about 4 minutes for the 10
# pages per level it reads by default). BENCH_OCR_ARGS="--pages 3" for a quick look.
bench-ocr: install ocrdeps
	$(BIN)/python bench/ocr.py $(BENCH_OCR_ARGS)

lint: install
	$(BIN)/ruff check ingest cli.py tests bench
	$(BIN)/mypy

install: $(STAMP)

# Installed from requirements.lock without their declared dependencies, which the lock
# lists itself: rapidocr-onnxruntime (Chinese text on scans, ingest/readers/rapid.py)
# declares the GUI build opencv-python (508 MB with its Qt and video libraries, shared
# notes); the lock pins opencv-python-headless instead, and onnxruntime, pyclipper,
# shapely, six, PyYAML and tqdm, the rest of what it declares.
NODEPS := rapidocr-onnxruntime

$(STAMP): requirements.lock pyproject.toml
	@$(MAKE) --no-print-directory sysdeps
	$(PYTHON) -m venv $(VENV)
	@grep -viE '^($(NODEPS))==' requirements.lock > $(VENV)/requirements.deps
	$(BIN)/python -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.deps
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps \
	  $$(grep -iE '^($(NODEPS))==' requirements.lock)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Debian's python3 needs python3-venv for `python -m venv`; nothing else is needed yet.
sysdeps:
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  echo "installing python3-venv with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }

# Scans and faxes are read with tesseract (English and Simplified Chinese data); the OCR tests
# and the benchmark render their pages with a CJK font. About 30 MB, installed once.
ocrdeps:
	@{ command -v tesseract && tesseract --list-langs 2>/dev/null | grep -qx chi_sim \
	   && tesseract --list-langs 2>/dev/null | grep -qx eng \
	   && [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; } >/dev/null 2>&1 || { \
	  echo "installing tesseract-ocr (eng, chi_sim) and fonts-wqy-microhei with apt-get (OCR)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
	    fonts-wqy-microhei; }

# The IMAP tests start their own Dovecot on loopback (tests/imapserver.py); only `make test`
# needs it. Installed once: later runs find the binaries and skip apt-get.
testdeps: ocrdeps
	@{ command -v openssl && PATH="$$PATH:/usr/sbin:/sbin" command -v dovecot \
	   && { [ -x /usr/lib/dovecot/imap ] || [ -x /usr/libexec/dovecot/imap ]; }; } >/dev/null 2>&1 || { \
	  echo "installing dovecot-core, dovecot-imapd and openssl with apt-get (IMAP tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends dovecot-core dovecot-imapd openssl; }
	@$(MAKE) --no-print-directory reportdeps

# The daily report's tests render the page in a real headless Chromium (a screenshot and its
# DOM) and the PDF with pdftoppm; a font with Chinese glyphs for both (file names, customers)
# and poppler's data for PDF readers' own CJK fonts. Installed once, like Dovecot.
reportdeps:
	@{ command -v chromium-headless-shell && command -v pdftoppm \
	   && [ -d /usr/share/poppler/cMap ] && [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; \
	 } >/dev/null 2>&1 || { \
	  echo "installing chromium-headless-shell, poppler-utils, poppler-data and" \
	    "fonts-wqy-zenhei with apt-get (report tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium-headless-shell poppler-utils poppler-data \
	    fonts-wqy-zenhei; }

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
