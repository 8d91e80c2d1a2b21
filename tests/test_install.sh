#!/bin/sh
# make install DESTDIR=...: the program, both manual pages, the chat-format
# templates and the demo model land where they belong, and the installed
# program opens the installed demo model when no model is given.
set -u
. "$(dirname "$0")/lib.sh"
BUILD=${GLMCHAT_BUILDDIR:-.}

[ -f "$BUILD/Makefile" ] || skip_all "no Makefile in $BUILD"
command -v make >/dev/null 2>&1 || skip_all "make is not installed"

make_tmp install
dest=$tmp/root

# the paths configure chose, from the Makefile itself
var() { sed -n "s|^$1 = ||p" "$BUILD/Makefile" | head -n 1; }
prefix=$(var prefix)
bindir=$(var bindir | sed "s|\${exec_prefix}|$(var exec_prefix)|; s|\${prefix}|$prefix|")
datadir=$(var datarootdir | sed "s|\${prefix}|$prefix|")
mandir=$datadir/man
pkgdatadir=$datadir/glmchat

echo "1..9"

# a make inside make check must not join the outer make's jobserver
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -C "$BUILD" install DESTDIR="$dest") > "$tmp/log" 2>&1
ok $? "make install DESTDIR=... succeeds"
[ $? -eq 0 ] || sed 's/^/# /' "$tmp/log" | tail -n 20

[ -x "$dest$bindir/glmchat" ]; ok $? "the program: $bindir/glmchat"
[ -f "$dest$mandir/man1/glmchat.1" ]; ok $? "manual page: $mandir/man1/glmchat.1"
[ -f "$dest$mandir/man5/glmchat.conf.5" ]; ok $? "manual page: $mandir/man5/glmchat.conf.5"
ls "$dest$pkgdatadir/templates/"* >/dev/null 2>&1; ok $? "chat-format templates under $pkgdatadir/templates"
cmp -s "$dest$pkgdatadir/demo.gguf" "$FIX/models/tiny-q8_0.gguf"
ok $? "the demo model: $pkgdatadir/demo.gguf"

"$dest$bindir/glmchat" --version > "$tmp/v" 2>&1 && grep -q "^glmchat [0-9]" "$tmp/v"
ok $? "the installed program runs: $(cat "$tmp/v")"

# No model given: plain mode answers with the demo model.
# The DESTDIR copy is not where the program was built to look, so point it there.
echo "Hello" | XDG_CONFIG_HOME=$tmp/cfg XDG_DATA_HOME=$tmp/data XDG_STATE_HOME=$tmp/state \
	GLMCHAT_DEMO_MODEL="$dest$pkgdatadir/demo.gguf" GLMCHAT_TEMPLATES="$dest$pkgdatadir/templates" \
	timeout 60 "$dest$bindir/glmchat" -n 8 --backend cpu -t 2 > "$tmp/out" 2> "$tmp/err" &&
	{ [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; }
ok $? "with no model, the installed program answers with the demo model"
sed 's/^/# /' "$tmp/err" | head -n 5

(unset MAKEFLAGS MFLAGS MAKELEVEL; make -C "$BUILD" uninstall DESTDIR="$dest") > "$tmp/log" 2>&1 &&
	[ -z "$(find "$dest" -type f)" ]
ok $? "make uninstall removes every installed file"
[ $fails -eq 0 ]
