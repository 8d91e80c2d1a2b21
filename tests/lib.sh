# The test scripts' common part, sourced first: where the program and the
# fixtures are (make check exports these; the defaults suit a run by hand
# from the build directory), TAP output, and a private temporary directory.
#
#   . "$(dirname "$0")/lib.sh"
#   ok STATUS DESCRIPTION   one test line; STATUS 0 passes
#   skip REASON             one skipped test
#   skip_all REASON         "1..0 # SKIP REASON" and exit 0: nothing to test here
#   make_tmp NAME           $tmp: a new directory, removed however the script ends
#   done_testing            the plan "1..N" after the tests; the exit status
#
# A script redefines on_failure to show more about a failed test, and
# cleanup (calling rm -rf "$tmp" itself) when it has more to tear down.
GLMCHAT=${GLMCHAT:-src/glmchat}
FIX=${GLMCHAT_FIXTURES:-tests/fixtures}
SHARED=${GLMCHAT_SHARED:-../shared}
SRC=${GLMCHAT_SRCDIR:-.}

n=0
fails=0
on_failure() { :; }
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		on_failure
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

cleanup() { rm -rf "$tmp"; }
make_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/glmchat-$1.XXXXXX") || exit 1
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP      # exit runs the EXIT trap
}

done_testing() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
}
