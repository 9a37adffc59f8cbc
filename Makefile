# orgshare.aws developer commands. Every target sets up what it needs (scripts/bootstrap.sh).
SHELL := /bin/bash
VENV ?= .venv
VENV_ABS := $(abspath $(VENV))
PY := $(VENV_ABS)/bin/python
COLLECTIONS := $(CURDIR)/.cache/collections
COPY := $(COLLECTIONS)/ansible_collections/orgshare/aws
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PATH := $(VENV_ABS)/bin:$(PATH)
# The oldest ansible-core we support, tested on a Python it runs on (when one is present)
COMPAT_CORE ?= ansible-core>=2.17,<2.18
COMPAT_VENV ?= .venv-compat

.PHONY: help venv demo test pytest sanity lint docs-lint changelog-lint compat bench bench-smoke release clean

help:
	@echo "make demo   - run the main job (distribute + audit) on the built-in AWS emulator"
	@echo "make test   - run every test and linter (what CI runs)"
	@echo "make bench  - run the benchmarks (writes docs/performance.md; OLD=PATH adds another orgshare.aws tree as side 'old')"
	@echo "make release - build the collection tarball from the last commit into dist/"

venv:
	@scripts/bootstrap.sh $(VENV)

demo: venv
	@$(PY) scripts/demo.py

test: venv
	@scripts/run-tests.sh $(VENV)

pytest: venv
	$(PY) -m pytest -q

sanity: venv
	@scripts/sync-collection.sh
	@scripts/ansible-test-offline.sh $(VENV) >/dev/null
	cd $(COPY) && $(VENV_ABS)/bin/ansible-test sanity --venv --python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])') --color no

lint: venv
	@scripts/sync-collection.sh
	cd $(COPY) && $(VENV_ABS)/bin/ansible-lint --offline --profile production

# --validate-collection-refs all: the linter then also loads the collections on ANSIBLE_COLLECTIONS_PATH,
# where the amazon.aws doc fragments our modules extend live (and checks references to them).
docs-lint: venv
	@scripts/sync-collection.sh
	$(VENV_ABS)/bin/antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all $(COPY)

changelog-lint: venv
	$(VENV_ABS)/bin/antsibull-changelog lint

compat:
	@scripts/run-compat.sh $(COMPAT_VENV) '$(COMPAT_CORE)'

# OLD=PATH: a third side, another orgshare.aws tree (e.g. `git worktree add PATH 015e4d1`, outside this repository)
bench: venv
	$(PY) bench/run.py $(if $(OLD),--old-collection '$(OLD)')

bench-smoke: venv
	$(PY) bench/run.py --smoke

# The release tarball, built from the committed tree (git archive HEAD) into dist/; see scripts/release.sh
release: venv
	@scripts/release.sh $(VENV_ABS) dist

clean:
	rm -rf .cache/test-collections tests/output
