# tests/: TAP programs and scripts run by `make check`.
check_PROGRAMS += tests/test_cli
TESTS += tests/test_cli
tests_test_cli_SOURCES = tests/test_cli.c tests/tap.h src/cli.c
tests_test_cli_LDADD = $(ENGINE_LIBS)

EXTRA_DIST += tests/fixtures
