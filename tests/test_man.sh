#!/bin/sh
# The manual pages agree with the program: every subcommand and every long
# option that --help prints, every slash command, every config key that
# --print-config prints and every environment variable the code reads is
# documented, and both pages render without groff warnings.
set -u
. "$(dirname "$0")/lib.sh"
man1=$SRC/man/glmchat.1
man5=$SRC/man/glmchat.conf.5

[ -x "$GLMCHAT" ] || { echo "Bail out! $GLMCHAT not built"; exit 1; }
make_tmp man

# the pages as plain text with roff's \- turned into -
sed -e 's/\\-/-/g' -e 's/\\(dq/"/g' "$man1" > "$tmp/1"
sed -e 's/\\-/-/g' -e 's/\\(dq/"/g' "$man5" > "$tmp/5"

echo "1..9"

# 1: subcommands
"$GLMCHAT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' > "$tmp/cmds"
missing=
for c in $(cat "$tmp/cmds"); do
	grep -q "^\.B[IR]* \"*$c" "$tmp/1" || missing="$missing $c"
done
[ -s "$tmp/cmds" ] && [ -z "$missing" ]; ok $? "every subcommand of --help is in glmchat.1${missing:+ (missing:$missing)}"

# 2: long options of every subcommand's --help
missing=
for c in $(cat "$tmp/cmds"); do
	"$GLMCHAT" "$c" --help 2>/dev/null | grep -o -e '--[a-z][a-z0-9-]*' | sort -u > "$tmp/opts"
	for o in $(cat "$tmp/opts"); do
		grep -q -e "$o" "$tmp/1" || missing="$missing $c:$o"
	done
done
[ -z "$missing" ]; ok $? "every long option of every --help is in glmchat.1${missing:+ (missing:$missing)}"

# 3: slash commands, from the screen's command table
grep -o '^	{ "[a-z]*",' "$SRC/ui/commands.c" | grep -o '[a-z][a-z]*' > "$tmp/slash"
missing=
for s in $(cat "$tmp/slash"); do
	grep -q "^\.B[IR]* /$s" "$tmp/1" || missing="$missing /$s"
done
[ -s "$tmp/slash" ] && [ -z "$missing" ]; ok $? "every slash command is in glmchat.1${missing:+ (missing:$missing)}"

# 4: config keys, as --print-config prints them
XDG_CONFIG_HOME=$tmp GLMCHAT_CONFIG= "$GLMCHAT" --print-config 2>/dev/null |
	grep -o '^[[:space:]]*"[a-z_]*":' | tr -d ' \t":' > "$tmp/keys"
missing=
for k in $(cat "$tmp/keys"); do
	grep -q "^\.BR* $k\b" "$tmp/5" || missing="$missing $k"
done
[ -s "$tmp/keys" ] && [ -z "$missing" ]; ok $? "every config key is in glmchat.conf.5${missing:+ (missing:$missing)}"

# 5: environment variables the code reads (test and debug hooks aside)
cat "$SRC"/src/*.c "$SRC"/ui/*.c "$SRC"/engine/*.c 2>/dev/null | grep -o 'getenv("[A-Z_]*")' |
	grep -o '[A-Z_][A-Z_]*' | sort -u |
	grep -v -x -e TERM -e GLM_NO_SIMD -e 'GLMCHAT_TEST_[A-Z_]*' > "$tmp/env"
missing=
for v in $(cat "$tmp/env"); do
	sed -n '/^\.SH ENVIRONMENT/,/^\.SH EXIT/p' "$tmp/1" | grep -q "\b$v\b" || missing="$missing $v"
done
[ -s "$tmp/env" ] && [ -z "$missing" ]; ok $? "every environment variable is in ENVIRONMENT${missing:+ (missing:$missing)}"

# 6: exit statuses
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$tmp/1" > "$tmp/exit"
grep -q '^\.B 0' "$tmp/exit" && grep -q '^\.B 1' "$tmp/exit" && grep -q '^\.B 2' "$tmp/exit"
ok $? "EXIT STATUS lists 0, 1 and 2"

# 7: the sections man-pages(7) asks for, in order
sed -n 's/^\.SH //p' "$man1" | tr '\n' ' ' > "$tmp/sections"
grep -q "^NAME SYNOPSIS DESCRIPTION .*OPTIONS .*FILES ENVIRONMENT EXIT STATUS EXAMPLES SEE ALSO" "$tmp/sections"
ok $? "glmchat.1 sections in the usual order: $(cat "$tmp/sections")"

# 8-9: both render cleanly
if command -v groff >/dev/null 2>&1; then
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man1" > "$tmp/w1" 2>&1 && [ ! -s "$tmp/w1" ]
	ok $? "glmchat.1 renders without warnings"; sed 's/^/# /' "$tmp/w1"
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man5" > "$tmp/w5" 2>&1 && [ ! -s "$tmp/w5" ]
	ok $? "glmchat.conf.5 renders without warnings"; sed 's/^/# /' "$tmp/w5"
else
	skip "groff is not installed"
	skip "groff is not installed"
fi
[ $fails -eq 0 ]
