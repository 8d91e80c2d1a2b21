#!/bin/sh
# glmchat render: every reference row (fixtures/template/render.jsonl, made
# by jinja2 with the official template) through the command line, text and
# safe ids byte for byte; bad input exits 1 with one line, usage errors 2.
GLMCHAT=${GLMCHAT:-src/glmchat}
FIX=${GLMCHAT_FIXTURES:-tests/fixtures}
M="$FIX/models/tiny-f32.gguf"
ROWS="$FIX/template/render.jsonl"
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$ROWS" ]; then
	echo "1..0 # SKIP needs $GLMCHAT, $M and $ROWS"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP needs python3 to split the JSON rows"
	exit 0
fi

n=0
ok() {          # ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}

# Each row's input object, expected text and expected ids, as files.
rows=$(python3 - "$ROWS" "$TMP" <<'PY'
import json, sys
rows, tmp = sys.argv[1], sys.argv[2]
k = 0
for k, line in enumerate(open(rows, encoding="utf-8")):
    r = json.loads(line)
    inp = {"messages": r["messages"]}
    inp.update(r["options"])
    open(f"{tmp}/in.{k}", "w", encoding="utf-8").write(json.dumps(inp, ensure_ascii=False))
    open(f"{tmp}/text.{k}", "w", encoding="utf-8", newline="").write(r["text"])
    open(f"{tmp}/ids.{k}", "w").write(" ".join(map(str, r["ids_safe"])) + "\n")
print(k + 1)
PY
)
[ -n "$rows" ] || { echo "Bail out! cannot read $ROWS"; exit 1; }

echo "1..$((2 * rows + 17))"

i=0
while [ "$i" -lt "$rows" ]; do
	"$GLMCHAT" render -m "$M" <"$TMP/in.$i" >"$TMP/got" && cmp -s "$TMP/got" "$TMP/text.$i"
	ok $? "row $i: text byte for byte"
	"$GLMCHAT" render -m "$M" --ids <"$TMP/in.$i" >"$TMP/got" && cmp -s "$TMP/got" "$TMP/ids.$i"
	ok $? "row $i: --ids gives ids_safe"
	i=$((i + 1))
done

# Runtime errors: exit 1 and exactly one line on stderr. (Inputs go through
# files: a function at the end of a pipe would count in a subshell.)
fails_with_one_line() {    # fails_with_one_line DESCRIPTION INPUT-FILE
	"$GLMCHAT" render -m "$M" <"$2" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -s "$TMP/out" ]
	ok $? "$1: exit 1, one line ($(head -c 100 "$TMP/err"))"
}
bad() {                    # bad DESCRIPTION JSON
	printf '%s' "$2" >"$TMP/bad"
	fails_with_one_line "$1" "$TMP/bad"
}
bad "truncated JSON" '{"messages": ['
bad "empty input" ''
head -c 100000 /dev/zero | tr '\0' '[' >"$TMP/deep"
fails_with_one_line "100000 nested arrays" "$TMP/deep"
bad "unknown role" '{"messages": [{"role": "robot", "content": "hi"}]}'
bad "content of the wrong type" '{"messages": [{"role": "user", "content": 7}]}'
bad "messages not a list" '{"messages": "hi"}'
bad "a number for a flag" '{"messages": [], "enable_thinking": 1}'
printf '{"messages": [{"role": "user", "content": "\377"}]}' >"$TMP/utf8"
fails_with_one_line "invalid UTF-8" "$TMP/utf8"

# A 20 MB message goes through whole.
{ printf '{"messages": [{"role": "user", "content": "'; head -c 20000000 /dev/zero | tr '\0' 'a'; printf '"}]}'; } |
	"$GLMCHAT" render -m "$M" >"$TMP/big"
[ $? -eq 0 ] && [ "$(wc -c <"$TMP/big")" -eq $((20000000 + 40)) ]
ok $? "a 20 MB message renders whole"

printf '{"messages": []}' | "$GLMCHAT" render -m "$TMP/missing.gguf" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "missing.gguf" "$TMP/err"
ok $? "a missing model file: exit 1 naming it"

# The same model with its chat template altered (same length, so the file
# stays valid): not GLM-4.7 any more.
perl -0777 -pe 's/last_user_index/last_user_indey/g' "$M" >"$TMP/other.gguf"
printf '{"messages": []}' | "$GLMCHAT" render -m "$TMP/other.gguf" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "other.gguf: unsupported chat template" "$TMP/err"
ok $? "an unknown chat template: exit 1 ($(head -c 100 "$TMP/err"))"

printf '{"messages": []}' | GLMCHAT_TEMPLATES="$TMP/none" "$GLMCHAT" render -m "$M" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "$TMP/none/glm-4.7.txt" "$TMP/err"
ok $? "no format data file: exit 1 naming it"

printf '{"messages": []}' | "$GLMCHAT" render >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no -m: usage error, exit 2"

printf '{"messages": []}' | "$GLMCHAT" render -m "$M" --bogus >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "unknown option: exit 2"

printf '{"messages": []}' | "$GLMCHAT" render -m "$M" extra >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "stray argument: exit 2"

"$GLMCHAT" render --help | grep -q "glmchat render -m MODEL"
ok $? "--help describes the command"

printf '{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": false}' |
	"$GLMCHAT" render -m "$M" >"$TMP/got"
printf '[gMASK]<sop><|user|>hi' | cmp -s - "$TMP/got"
ok $? "defaults can be turned off; no newline is added"
