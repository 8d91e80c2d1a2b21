#!/bin/sh
# glmchat logits / generate / run / bench on the CPU backend with a tiny
# fixture model: the logits against the reference file (batch and
# --incremental), greedy ids against the golden continuation, run's JSON,
# bench's table and JSON, and the exit statuses of INTERFACE.md (1 runtime,
# 2 usage).
GLMCHAT=${GLMCHAT:-src/glmchat}
FIX=${GLMCHAT_FIXTURES:-tests/fixtures}
M="$FIX/models/tiny-f32.gguf"
GOLDEN="$FIX/models/tiny-f32.golden.json"
REF="$FIX/models/tiny-f32.logits.f32"
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$GOLDEN" ] || [ ! -f "$REF" ]; then
	echo "1..0 # SKIP needs $GLMCHAT and the tiny-f32 fixtures in $FIX/models"
	exit 0
fi

n=0
fails=0
ok() {          # ok CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}

# A field of golden prompt number $1 (0-based), as the text between its
# brackets or up to the next comma: the JSON with all whitespace removed.
flat=$(tr -d ' \n\t' < "$GOLDEN")
prompt_field() {
	printf '%s' "$flat" | sed 's/{"name"/\n{"name"/g' | sed -n "$(($1 + 2))p" |
		sed "s/.*\"$2\":\(\[[^]]*\]\|[^,}]*\).*/\1/" | tr -d '[]'
}

# Relative error ||a - b|| / ||b|| of two float32 files.
rel_err() {
	od -An -v -f -w4 "$1" > "$TMP/a.txt"
	od -An -v -f -w4 "$2" > "$TMP/b.txt"
	paste "$TMP/a.txt" "$TMP/b.txt" |
		awk '{ d = $1 - $2; num += d * d; den += $2 * $2 } END { printf "%.3g", sqrt(num / den) }'
}
below() {       # below X LIMIT: exit 0 when X < LIMIT
	awk -v x="$1" -v l="$2" 'BEGIN { exit !(x < l) }'
}

echo "1..18"

# --- logits: prompt 1 ("short"), every position stored ---
ids=$(prompt_field 1 ids)
off=$(prompt_field 1 logits_offset)
cnt=$(printf '%s\n' "$ids" | awk -F, '{ print NF }')
V=2112
"$GLMCHAT" logits -m "$M" --backend cpu --ids "$ids" --out "$TMP/batch.f32"
ok $? "logits exits 0"
size=$(wc -c < "$TMP/batch.f32")
[ "$size" -eq $((cnt * V * 4)) ]
ok $? "logits writes n_ids x n_vocab float32 ($size bytes for $cnt ids)"
dd if="$REF" of="$TMP/ref.f32" bs=4 skip="$off" count=$((cnt * V)) 2>/dev/null
e=$(rel_err "$TMP/batch.f32" "$TMP/ref.f32")
below "$e" 1e-4
ok $? "batch logits match the reference (rel err $e)"
"$GLMCHAT" logits -m "$M" --backend cpu --ids "$ids" --out "$TMP/inc.f32" --incremental
e=$(rel_err "$TMP/inc.f32" "$TMP/ref.f32")
below "$e" 1e-4
ok $? "--incremental logits match the reference (rel err $e)"
e=$(rel_err "$TMP/inc.f32" "$TMP/batch.f32")
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
"$GLMCHAT" run -m "$M" -p "Hello" -n 12 --seed 1 --json > "$TMP/run.json" 2> "$TMP/run.err"
rc=$?
grep -q '^{"reasoning":".*","content":".*","stats":{.*"generated_tokens":12[,}]' "$TMP/run.json"
ok $((rc + $?)) "run --json prints one object with reasoning, content and stats"
grep -q '"prompt_tokens":[1-9]' "$TMP/run.json" && grep -q '"stop":"length"' "$TMP/run.json"
ok $? "run --json stats count the prompt and say why it stopped"
printf 'Hello' | "$GLMCHAT" run -m "$M" -p - -n 12 --seed 1 --json > "$TMP/run2.json" 2>/dev/null
sed 's/"stats":.*//' "$TMP/run.json" > "$TMP/a" && sed 's/"stats":.*//' "$TMP/run2.json" > "$TMP/b"
cmp -s "$TMP/a" "$TMP/b"
ok $? "run -p - reads the prompt from standard input (same turn as -p)"
"$GLMCHAT" run -m "$M" -p "Hello" -n 6 --seed 1 --system "Be brief." --no-think > "$TMP/out" 2> "$TMP/err"
ok $? "run --system --no-think exits 0"

# --- bench ---
"$GLMCHAT" bench -m "$M" -p 16 -n 4 -r 2 -t 1 > "$TMP/bench.txt"
rc=$?
grep -q '| cpu .*| pp16 .*|' "$TMP/bench.txt" && grep -q '| cpu .*| tg4 .*|' "$TMP/bench.txt"
ok $((rc + $?)) "bench prints pp16 and tg4 rows"
"$GLMCHAT" bench -m "$M" -p 16 -n 4 -d 0,8 -r 2 -t 1 --ctk f32,q8_0 --json > "$TMP/bench.json"
rc=$?
[ "$(grep -c '"avg_ts":' "$TMP/bench.json")" -eq 8 ] && grep -q '"test":[^,]*"tg4@d8"' "$TMP/bench.json" &&
	grep -q '"ctk":[^,]*"q8_0"' "$TMP/bench.json"
ok $((rc + $?)) "bench --json: one entry per test, depth and cache type"

# --- exit statuses ---
"$GLMCHAT" logits --ids 1 --out "$TMP/x" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "no model: usage error (2)"
"$GLMCHAT" generate -m "$M" --ids 1,x -n 2 > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "bad --ids: usage error (2)"
"$GLMCHAT" bench -m "$M" --ctk f17 > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "bad --ctk: usage error (2)"
"$GLMCHAT" run -m "$TMP/missing.gguf" -p hi > /dev/null 2> "$TMP/err"
[ $? -eq 1 ] && grep -q "^glmchat: .*missing.gguf" "$TMP/err"
ok $? "missing model: runtime error (1), one line naming the file"
"$GLMCHAT" generate -m "$M" --ids 1 -n 1 -c 2000000000 > /dev/null 2> "$TMP/err"
[ $? -eq 1 ] && grep -q -- "-c" "$TMP/err"
ok $? "impossible context: runtime error (1): $(cat "$TMP/err")"

exit 0
