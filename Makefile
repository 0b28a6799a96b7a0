# structloc: two commands set up a fresh machine.
#   make book   install everything, execute every chapter (quick mode) and build the HTML book
#   make test   install everything and run the test suite
# Checks CI runs after `make book` (not part of it, so `make book` needs no browser):
#   make check-book      the built pages in headless Chromium (needs chromium + chromedriver)
#   make check-outside   every chapter executed outside the repository, package installed non-editable
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
# A CPU build of torch where none is installed. On a machine whose pip does not serve a CPU
# wheel for this spec, add: TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STRUCTLOC_MODE ?= quick

.PHONY: install torch book test sync-notebooks check-notebooks check-book check-outside benchmarks clean

torch:
	@$(PYTHON) -c "import torch" 2>/dev/null && echo "torch already installed: keeping it" || \
		$(PIP) install $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"

install: torch
	$(PIP) install -r requirements.txt

# MPLBACKEND is cleared for the build: a non-inline backend (e.g. Agg) in the environment would
# make every plt.show() in the chapters silently produce no figure. STRUCTLOC_WIDGETS=off: the
# explorers create no sliders in a headless build (structloc.notebook.widgets_enabled says why).
# tools/build_book.py runs jupyter-book build . -W --keep-going, once more after a stalled execution.
book: install check-notebooks
	env -u MPLBACKEND STRUCTLOC_MODE=$(STRUCTLOC_MODE) STRUCTLOC_WIDGETS=off $(PYTHON) tools/build_book.py
	$(PYTHON) tools/check_built_book.py _build/html

test: install
	$(PYTHON) -m pytest -n 2 --dist loadfile

sync-notebooks:
	$(PYTHON) -m jupytext --sync book/*.md

check-notebooks:
	$(PYTHON) tools/check_notebooks.py

# Console errors, broken images, raw MyST text, sideways overflow; one screenshot per chapter.
check-book:
	$(PYTHON) tools/check_rendered_book.py _build/html --screenshots _build/screenshots

check-outside:
	env STRUCTLOC_MODE=quick $(PYTHON) tools/run_notebooks_outside.py

benchmarks: install
	$(PYTHON) benchmarks/bench_simulate.py

clean:
	rm -rf _build
