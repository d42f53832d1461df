# Python binding tests, included from the top-level Makefile (after SHARED_LIB is defined):
#
#   include bindings/python/python.mk
#
#   make python-tests          pytest against target/release/liboffrec.so (OFFREC_LIB)
#   make python-wheel-test     the package as users get it (tests/wheel_test.sh): `pip wheel`
#                              through maturin, auditwheel's check of the manylinux tag, the
#                              wheel in a fresh venv outside the repository running the README's
#                              example WITHOUT OFFREC_LIB (the bundled library), `pip install -e`
#   make python-wheel          the portable wheel (maturin --zig: manylinux2014) in target/wheels,
#                              with the same checks (not in `make test`: its first run compiles
#                              every dependency again for the explicit target, minutes)
#
# PYTHON may name another interpreter (for example a venv with requirements-test.txt installed).

PYTHON ?= python3
PY_DIR := bindings/python

TEST_TARGETS += python-tests python-wheel-test

.PHONY: python-tests python-wheel-test

# A missing test dependency stops the run with the command that installs it, rather than being
# installed here: the interpreter may be the system's (PEP 668 forbids pip there; Debian's
# python3-pytest and python3-cryptography packages are what .ci/run installs) or a venv.
python-tests: build
	@$(PYTHON) -c 'import pytest, cryptography' 2>/dev/null || { \
	    echo "python-tests: $(PYTHON) lacks pytest or cryptography (test_oracle.py needs cryptography);" \
	         "install them with: $(PYTHON) -m pip install -r $(PY_DIR)/requirements-test.txt" \
	         "(or apt-get install python3-pytest python3-cryptography)" >&2; exit 1; }
	OFFREC_LIB=$(abspath $(SHARED_LIB)) $(PYTHON) -m pytest -q -p no:cacheprovider $(PY_DIR)/tests

# The tests of the library's test hooks (test_otr_vectors.py: libotr's OTR vectors through the
# binding) against the hooks library; plain python-tests skips them, here their absence fails.
TEST_TARGETS += python-tests-hooks
.PHONY: python-tests-hooks
python-tests-hooks: hooks-lib
	OFFREC_LIB=$(abspath $(HOOKS_LIB)) OFFREC_REQUIRE_TEST_HOOKS=1 $(PYTHON) -m pytest -q -p no:cacheprovider \
	    $(PY_DIR)/tests/test_otr_vectors.py

# After `build`, the wheel's own cdylib (bindings/python/native) is the only thing cargo links
# anew. Needs PyPI: pip fetches maturin and cffi for the build, auditwheel for the check.
python-wheel-test: build
	PYTHON=$(PYTHON) bash $(PY_DIR)/tests/wheel_test.sh

.PHONY: python-wheel
python-wheel:
	PYTHON=$(PYTHON) bash $(PY_DIR)/tests/wheel_test.sh --zig

# The binding under the memory checkers (issue: the bindings' tests run under AddressSanitizer and
# valgrind): one script makes every kind of call; valgrind fails on any error or definite leak
# outside CPython's own known-noisy internals (cpython.supp), ASan on any heap error. CPython
# frees little at exit by design, so ASan's leak check is off for the interpreter.
TEST_TARGETS += python-memcheck
.PHONY: python-memcheck
PY_REAL = $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
PY_MEMCHECK_ENV = PYTHONPATH=$(abspath $(PY_DIR)) OFFREC_LIB=$(abspath $(SHARED_LIB)) PYTHONMALLOC=malloc
python-memcheck: build
	cd /tmp && $(PY_MEMCHECK_ENV) valgrind --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite --quiet \
	    --suppressions=$(abspath $(PY_DIR))/tests/cpython.supp \
	    $(PY_REAL) $(abspath $(PY_DIR))/tests/memcheck_session.py
	@# Fail loudly rather than run a plain interpreter when ASan is missing: -print-file-name
	@# answers a bare name when it finds nothing, and LD_PRELOAD then only prints a warning.
	@asan=$$($(CC) -print-file-name=libasan.so); \
	case "$$asan" in /*) ;; *) echo "python-memcheck: libasan.so not found (apt-get install libasan8)" >&2; exit 1;; esac; \
	cd /tmp && LD_PRELOAD=$$asan ASAN_OPTIONS=detect_leaks=0 $(PY_REAL) -c \
	    'import ctypes; ctypes.CDLL(None).__asan_init; print("python-memcheck: ASan is loaded")' && \
	$(PY_MEMCHECK_ENV) LD_PRELOAD=$$asan ASAN_OPTIONS=detect_leaks=0 \
	    $(PY_REAL) $(abspath $(PY_DIR))/tests/memcheck_session.py
