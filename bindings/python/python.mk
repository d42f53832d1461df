# Python binding tests, included from the top-level Makefile (after SHARED_LIB is defined):
#
#   include bindings/python/python.mk
#
#   make python-tests          pytest against target/release/liboffrec.so (OFFREC_LIB)
#   make python-install-test   `pip install ./bindings/python` into a throwaway venv, then import
#                              it WITHOUT OFFREC_LIB (the bundled library) and run a conversation
#
# PYTHON may name another interpreter (for example a venv with requirements-test.txt installed).

PYTHON ?= python3
PY_DIR := bindings/python
PY_VENV := target/python-install-venv

TEST_TARGETS += python-tests python-install-test

.PHONY: python-tests python-install-test

python-tests: build
	OFFREC_LIB=$(abspath $(SHARED_LIB)) $(PYTHON) -m pytest -q -p no:cacheprovider $(PY_DIR)/tests

# pip builds in the source tree and runs cargo (already up to date after `build`). The venv is
# recreated each time; the smoke test runs from /tmp so the source tree is not on sys.path.
python-install-test: build
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ./$(PY_DIR)
	rm -rf $(PY_DIR)/build $(PY_DIR)/offrec.egg-info
	cd /tmp && env -u OFFREC_LIB $(abspath $(PY_VENV))/bin/python $(abspath $(PY_DIR))/tests/install_smoke.py
