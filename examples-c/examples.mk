# C examples, included from the top-level Makefile.
#
#   make examples        build hello (linked), hello_dlopen (dlopen only), inplace (the in-place
#                        style beside the callback style), chat and the parties
#                        (party: offrec; party_libotr: libotr 4.1.1 alone, for `make demo`)
#   make examples-test   run hello, hello_dlopen, inplace and the two-process chat test (in
#                        `make test`)

EX_DIR := examples-c
EX_BUILD_DIR := target/examples
EX_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -Iinclude
EX_LIB_DIR := $(C_LIB_DIR)
EX_LINK := -L$(EX_LIB_DIR) -Wl,-rpath,$(abspath $(EX_LIB_DIR)) -loffrec

EXAMPLES := $(EX_BUILD_DIR)/hello $(EX_BUILD_DIR)/hello_dlopen $(EX_BUILD_DIR)/chat $(EX_BUILD_DIR)/party \
	$(EX_BUILD_DIR)/party_libotr $(EX_BUILD_DIR)/inplace

TEST_TARGETS += examples-test

.PHONY: examples examples-test

examples: c-tests-build
	@mkdir -p $(EX_BUILD_DIR)
	$(MAKE) --no-print-directory $(EXAMPLES)

$(EX_BUILD_DIR)/hello: $(EX_DIR)/hello.c include/offrec.h $(SHARED_LIB)
	$(CC) $(EX_CFLAGS) $< -o $@ $(EX_LINK)

# No -loffrec: the library is found at run time with dlopen.
$(EX_BUILD_DIR)/hello_dlopen: $(EX_DIR)/hello_dlopen.c $(EX_DIR)/hello.c include/offrec.h
	$(CC) $(EX_CFLAGS) $< -o $@ -ldl

$(EX_BUILD_DIR)/inplace: $(EX_DIR)/inplace.c include/offrec.h $(SHARED_LIB)
	$(CC) $(EX_CFLAGS) $< -o $@ $(EX_LINK)

$(EX_BUILD_DIR)/chat: $(EX_DIR)/chat.c include/offrec.h $(SHARED_LIB)
	$(CC) $(EX_CFLAGS) $< -o $@ $(EX_LINK)

$(EX_BUILD_DIR)/party: $(EX_DIR)/party.c include/offrec.h $(SHARED_LIB)
	$(CC) $(EX_CFLAGS) $< -o $@ $(EX_LINK)

# A Pidgin-like party on libotr 4.1.1 (libotr5-dev, tests/setup.sh): no offrec inside.
$(EX_BUILD_DIR)/party_libotr: $(EX_DIR)/party_libotr.c
	$(CC) $(EX_CFLAGS) $< -o $@ -lotr -lgcrypt || { \
	    echo "party_libotr (make demo) needs libotr 4.1: apt-get install libotr5-dev (tests/setup.sh)"; exit 1; }

examples-test: examples
	$(EX_BUILD_DIR)/hello
	@if ldd $(EX_BUILD_DIR)/hello_dlopen | grep -q liboffrec; then \
	    echo "hello_dlopen must not link liboffrec"; exit 1; fi
	$(EX_BUILD_DIR)/hello_dlopen $(abspath $(EX_LIB_DIR))/liboffrec.so.$(ABI_VERSION)
	$(EX_BUILD_DIR)/inplace
	bash tests/c/chat_test.sh $(EX_BUILD_DIR)/chat

# The two-command quick start's first command, and its IRC variant (needs ngircd).
.PHONY: demo demo-irc demo-test demo-setup

demo-setup:
	bash tests/setup.sh --demo

# demo-setup first: installs (as root) or names what the demo needs, e.g. libotr5-dev for its
# libotr party (tests/setup.sh --demo).
DEMO_DEPS := demo-setup examples go-party
DEMO_ENV := OFFREC_LIB=$(abspath $(SHARED_LIB))

demo: $(DEMO_DEPS)
	$(DEMO_ENV) $(PYTHON) $(EX_DIR)/demo.py

demo-irc: $(DEMO_DEPS)
	$(DEMO_ENV) $(PYTHON) $(EX_DIR)/demo.py --irc

# make test runs both demos, so the README's commands cannot rot.
TEST_TARGETS += demo-test
demo-test: $(DEMO_DEPS)
	$(DEMO_ENV) $(PYTHON) $(EX_DIR)/demo.py > target/demo.log
	$(DEMO_ENV) $(PYTHON) $(EX_DIR)/demo.py --irc > target/demo-irc.log
	@tail -n 1 target/demo.log
