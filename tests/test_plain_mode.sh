#!/bin/sh
# glmchat without a terminal: plain line mode. Each line read is a message,
# the answer goes to stdout (reasoning to stderr), nothing of the screen
# (no escape sequences), exit 0. Prints TAP.
. "$(dirname "$0")/lib.sh"
MODEL=$FIX/models/tiny-q8_0.gguf

if [ ! -x "$GLMCHAT" ]; then
	skip_all "$GLMCHAT not built"
fi
make_tmp plain
# keep the user's files out of it
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state"

# one message, thinking off: the answer channel starts at once
echo hi | "$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 8 --seed 1 --no-think >"$tmp/out" 2>"$tmp/err"
ok $? "echo hi | glmchat -m tiny -n 8 exits 0"
[ -s "$tmp/out" ] && [ "$(tr -d '\n' <"$tmp/out" | wc -c)" -gt 0 ]
ok $? "an answer is printed on stdout"
[ "$(tail -c 1 "$tmp/out" | od -An -c | tr -d ' ')" = '\n' ]
ok $? "the answer ends with a newline"
! grep -q "$(printf '\033')" "$tmp/out"
ok $? "no escape sequences in the output"
[ ! -s "$tmp/err" ]
ok $? "nothing on stderr without reasoning"

# the same with thinking on: output starts in the reasoning, which goes to stderr
echo hi | "$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 8 --seed 1 >"$tmp/out" 2>"$tmp/err"
ok $? "with thinking: exits 0"
[ -s "$tmp/err" ]
ok $? "with thinking: the reasoning goes to stderr"

# two lines are two turns; /quit ends the input early (a fixed seed on one
# thread makes the answers repeatable, so the outputs can be compared)
chat() {   # chat INPUT OUTFILE
	printf "$1" | "$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 6 --seed 2 --no-think >"$2" 2>"$tmp/err"
}
chat 'first\n' "$tmp/one"
chat 'first\nsecond\n' "$tmp/two"
chat 'first\nsecond\n/quit\nnot sent\n' "$tmp/quit"
ok $? "two messages and /quit: exit 0"
[ -s "$tmp/one" ] && [ "$(wc -c <"$tmp/two")" -gt "$(wc -c <"$tmp/one")" ] && head -c "$(wc -c <"$tmp/one")" "$tmp/two" | cmp -s - "$tmp/one"
ok $? "a second line is a second turn after the first answer"
cmp -s "$tmp/two" "$tmp/quit"
ok $? "the line after /quit is not sent"

# idle sleep (--sleep-idle-seconds): the timer runs while no line comes;
# the next line reloads the model and the conversation goes on exactly as
# without the nap
(echo first; sleep 2.2; echo second) |
	"$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 6 --seed 2 --no-think --sleep-idle-seconds 1 \
	>"$tmp/nap" 2>"$tmp/naperr"
ok $? "with --sleep-idle-seconds 1 and a pause: exit 0"
grep -q "memory is released" "$tmp/naperr" && grep -Eq "loaded again in [0-9]+\.[0-9] s" "$tmp/naperr"
ok $? "the model sleeps in the pause and the reload time is reported on stderr"
cmp -s "$tmp/nap" "$tmp/two"
ok $? "after the reload the answers are those of the run without a pause"

# sessions: plain mode saves them too, so --resume continues the conversation
rm -rf "$tmp/data"
chat 'first\n' "$tmp/r1"
ls "$tmp"/data/glmchat/sessions/*.json >/dev/null 2>&1
ok $? "the conversation is saved under XDG_DATA_HOME"
printf 'second\n' | "$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 6 --seed 2 --no-think --resume \
	>"$tmp/r2" 2>"$tmp/err"
ok $? "--resume in plain mode: exit 0"
cat "$tmp/r1" "$tmp/r2" | cmp -s - "$tmp/two"
ok $? "the resumed conversation answers as the uninterrupted one"
[ "$(ls "$tmp"/data/glmchat/sessions/*.json | wc -l)" -eq 1 ] &&
	[ "$(grep -o '"role"' "$tmp"/data/glmchat/sessions/*.json | wc -l)" -eq 4 ]
ok $? "...and its file holds all four messages"

# the demo model (no -m): its notice goes to stderr, the answer still to stdout
echo hi | GLMCHAT_DEMO_MODEL="$MODEL" "$GLMCHAT" --backend cpu -t 1 -n 4 --no-think >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && grep -q 'demo model' "$tmp/err" && grep -q 'glmchat pull' "$tmp/err" && [ -s "$tmp/out" ]
ok $? "the demo model: its notice on stderr, exit 0 (got $rc)"

# empty input: nothing to do, exit 0
"$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 4 </dev/null >"$tmp/out" 2>"$tmp/err"
ok $? "empty input exits 0"

# a closed stdin is empty input too (and never read from the wrong file)
to=; command -v timeout >/dev/null 2>&1 && to="timeout 60"
$to "$GLMCHAT" -m "$MODEL" --backend cpu -t 1 -n 4 0<&- >"$tmp/out" 2>"$tmp/err"
ok $? "a closed stdin: exit 0"

# a model that does not load: exit 1, one line on stderr
printf 'not a gguf' >"$tmp/bad.gguf"
echo hi | "$GLMCHAT" -m "$tmp/bad.gguf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^glmchat: ' "$tmp/err"
ok $? "a bad model file: exit 1 and one error line (got $rc)"

# usage errors: exit 2
"$GLMCHAT" chat -m "$MODEL" --bogus </dev/null >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "an unknown option is a usage error (exit 2)"
"$GLMCHAT" chat --help >"$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q 'Usage: glmchat' "$tmp/out"
ok $? "chat --help prints usage and exits 0"

done_testing
