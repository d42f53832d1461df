# Cross-language conversations (C, Python, Go parties over the example relay and over a real
# ngircd), included from the top-level Makefile after the C, Python and Go fragments.
#
#   make cross-tests     every pairing, both directions, SMP, extra key, out-of-order, IRC;
#                        offrec against a libotr party, and a stripped offer upgraded (test_legacy.py);
#                        the `offrec chat` CLI against the libotr party (test_cli_libotr.py)
#                        the CLI on a pseudo-terminal: passphrase prompt, line editing (test_cli_terminal.py)
#                        the WeeChat script in a headless WeeChat against `offrec chat` (test_weechat.py)

TEST_TARGETS += cross-tests

.PHONY: cross-tests

cross-tests: examples go-party
	cd tests/cross && OFFREC_LIB=$(abspath $(SHARED_LIB)) $(PYTHON) -m pytest -q -p no:cacheprovider test_cross.py test_legacy.py test_cli_libotr.py test_cli_terminal.py test_irc.py test_readme.py test_weechat.py
