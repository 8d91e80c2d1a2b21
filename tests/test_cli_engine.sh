#!/bin/sh
# glmchat logits / generate / run / bench on the CPU backend with a tiny
# fixture model: the logits against the reference file (batch and
# --incremental), greedy ids against the golden continuation, run's JSON,
# bench's table and JSON, and the exit statuses of INTERFACE.md (1 runtime,
# 2 usage).
. "$(dirname "$0")/lib.sh"
M="$FIX/models/tiny-f32.gguf"
GOLDEN="$FIX/models/tiny-f32.golden.json"
REF="$FIX/models/tiny-f32.logits.f32"

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$GOLDEN" ] || [ ! -f "$REF" ]; then
	skip_all "needs $GLMCHAT and the tiny-f32 fixtures in $FIX/models"
fi
make_tmp cli-engine

# A field of golden prompt number $1 (0-based), as the text between its
# brackets or up to the next comma: the JSON with all whitespace removed.
flat=$(tr -d ' \n\t' < "$GOLDEN")
prompt_field() {
	printf '%s' "$flat" | sed 's/{"name"/\n{"name"/g' | sed -n "$(($1 + 2))p" |
		sed "s/.*\"$2\":\(\[[^]]*\]\|[^,}]*\).*/\1/" | tr -d '[]'
}

# Relative error ||a - b|| / ||b|| of two float32 files.
rel_err() {
	od -An -v -f -w4 "$1" > "$tmp/a.txt"
	od -An -v -f -w4 "$2" > "$tmp/b.txt"
	paste "$tmp/a.txt" "$tmp/b.txt" |
		awk '{ d = $1 - $2; num += d * d; den += $2 * $2 } END { printf "%.3g", sqrt(num / den) }'
}
below() {       # below X LIMIT: exit 0 when X < LIMIT
	awk -v x="$1" -v l="$2" 'BEGIN { exit !(x < l) }'
}

echo "1..21"

# --- logits: prompt 1 ("short"), every position stored ---
ids=$(prompt_field 1 ids)
off=$(prompt_field 1 logits_offset)
cnt=$(printf '%s\n' "$ids" | awk -F, '{ print NF }')
V=2112
"$GLMCHAT" logits -m "$M" --backend cpu --ids "$ids" --out "$tmp/batch.f32"
ok $? "logits exits 0"
size=$(wc -c < "$tmp/batch.f32")
[ "$size" -eq $((cnt * V * 4)) ]
ok $? "logits writes n_ids x n_vocab float32 ($size bytes for $cnt ids)"
dd if="$REF" of="$tmp/ref.f32" bs=4 skip="$off" count=$((cnt * V)) 2>/dev/null
e=$(rel_err "$tmp/batch.f32" "$tmp/ref.f32")
below "$e" 1e-4
ok $? "batch logits match the reference (rel err $e)"
"$GLMCHAT" logits -m "$M" --backend cpu --ids "$ids" --out "$tmp/inc.f32" --incremental
e=$(rel_err "$tmp/inc.f32" "$tmp/ref.f32")
below "$e" 1e-4
ok $? "--incremental logits match the reference (rel err $e)"
e=$(rel_err "$tmp/inc.f32" "$tmp/batch.f32")
below "$e" 1e-5
ok $? "batch and --incremental agree (rel err $e)"

# --- generate: prompt 0 ("one"); its greedy margins are all above 1e-3 ---
want=$(prompt_field 0 greedy | tr ',' ' ')
got=$("$GLMCHAT" generate -m "$M" --backend cpu --ids "$(prompt_field 0 ids)" -n 24)
[ -n "$want" ] && [ "$got" = "$want" ]
ok $? "generate continues greedily as the reference does"
got=$("$GLMCHAT" generate -m "$M" --ids 2050,2052,100 -n 8 --temp 1 --seed 5)
again=$("$GLMCHAT" generate -m "$M" --ids 2050,2052,100 -n 8 --temp 1 --seed 5)
[ -n "$got" ] && [ "$got" = "$again" ] && [ "$(echo "$got" | wc -w)" -eq 8 ]
ok $? "generate --temp with a seed is reproducible ($got)"

# --- run ---
"$GLMCHAT" run -m "$M" -p "Hello" -n 12 --seed 1 --json > "$tmp/run.json" 2> "$tmp/run.err"
rc=$?
grep -q '^{"reasoning":".*","content":".*","stats":{.*"generated_tokens":12[,}]' "$tmp/run.json"
ok $((rc + $?)) "run --json prints one object with reasoning, content and stats"
grep -q '"prompt_tokens":[1-9]' "$tmp/run.json" && grep -q '"stop":"length"' "$tmp/run.json"
ok $? "run --json stats count the prompt and say why it stopped"
printf 'Hello' | "$GLMCHAT" run -m "$M" -p - -n 12 --seed 1 --json > "$tmp/run2.json" 2>/dev/null
sed 's/"stats":.*//' "$tmp/run.json" > "$tmp/a" && sed 's/"stats":.*//' "$tmp/run2.json" > "$tmp/b"
cmp -s "$tmp/a" "$tmp/b"
ok $? "run -p - reads the prompt from standard input (same turn as -p)"
"$GLMCHAT" run -m "$M" -p "Hello" -n 6 --seed 1 --system "Be brief." --no-think > "$tmp/out" 2> "$tmp/err"
ok $? "run --system --no-think exits 0"

# --- bench ---
"$GLMCHAT" bench -m "$M" -p 16 -n 4 -r 2 -t 1 > "$tmp/bench.txt"
rc=$?
grep -q '| cpu .*| pp16 .*|' "$tmp/bench.txt" && grep -q '| cpu .*| tg4 .*|' "$tmp/bench.txt"
ok $((rc + $?)) "bench prints pp16 and tg4 rows"
"$GLMCHAT" bench -m "$M" -p 16 -n 4 -d 0,8 -r 2 -t 1 --ctk f32,q8_0 --json > "$tmp/bench.json"
rc=$?
[ "$(grep -c '"avg_ts":' "$tmp/bench.json")" -eq 8 ] && grep -q '"test":[^,]*"tg4@d8"' "$tmp/bench.json" &&
	grep -q '"ctk":[^,]*"q8_0"' "$tmp/bench.json"
ok $((rc + $?)) "bench --json: one entry per test, depth and cache type"

# --- exit statuses ---
"$GLMCHAT" logits --ids 1 --out "$tmp/x" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "no model: usage error (2)"
"$GLMCHAT" generate -m "$M" --ids 1,x -n 2 > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "bad --ids: usage error (2)"
"$GLMCHAT" bench -m "$M" --ctk f17 > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "bad --ctk: usage error (2)"
"$GLMCHAT" run -m "$tmp/missing.gguf" -p hi > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "^glmchat: .*missing.gguf" "$tmp/err"
ok $? "missing model: runtime error (1), one line naming the file"
"$GLMCHAT" generate -m "$M" --ids 1 -n 1 -c 2000000000 > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && grep -q -- "-c" "$tmp/err"
ok $? "impossible context: runtime error (1): $(cat "$tmp/err")"

# --- the config file gives run its defaults; the command line overrides ---
printf '{"model": "%s", "thinking": false, "sampling": {"temp": 0}}\n' "$M" > "$tmp/config.json"
GLMCHAT_CONFIG="$tmp/config.json" "$GLMCHAT" run -p Hello -n 6 --json > "$tmp/cfg.json" 2> "$tmp/err"
rc=$?
grep -q '^{"reasoning":"","content":".*"generated_tokens":6[,}]' "$tmp/cfg.json"
ok $((rc + $?)) "run takes the model and thinking off from the config file (no -m): $(cat "$tmp/err")"
GLMCHAT_CONFIG="$tmp/config.json" "$GLMCHAT" run -m "$tmp/missing.gguf" -p hi > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "missing.gguf" "$tmp/err"
ok $? "-m overrides the config file's model"
printf '{"modle": "x"}\n' > "$tmp/bad.json"
GLMCHAT_CONFIG="$tmp/bad.json" "$GLMCHAT" run -m "$M" -p hi > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "modle" "$tmp/err"
ok $? "a bad config file: one line naming the key, exit 1"

exit 0
