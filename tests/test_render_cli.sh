#!/bin/sh
# glmchat render: every reference row (fixtures/template/render.jsonl, made
# by jinja2 with the official template) through the command line, text and
# safe ids byte for byte; bad input exits 1 with one line, usage errors 2.
. "$(dirname "$0")/lib.sh"
M="$FIX/models/tiny-f32.gguf"
ROWS="$FIX/template/render.jsonl"

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$ROWS" ]; then
	skip_all "needs $GLMCHAT, $M and $ROWS"
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip_all "needs python3 to split the JSON rows"
fi
make_tmp render-cli

# Each row's input object, expected text and expected ids, as files.
rows=$(python3 - "$ROWS" "$tmp" <<'PY'
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
	"$GLMCHAT" render -m "$M" <"$tmp/in.$i" >"$tmp/got" && cmp -s "$tmp/got" "$tmp/text.$i"
	ok $? "row $i: text byte for byte"
	"$GLMCHAT" render -m "$M" --ids <"$tmp/in.$i" >"$tmp/got" && cmp -s "$tmp/got" "$tmp/ids.$i"
	ok $? "row $i: --ids gives ids_safe"
	i=$((i + 1))
done

# Runtime errors: exit 1 and exactly one line on stderr. (Inputs go through
# files: a function at the end of a pipe would count in a subshell.)
fails_with_one_line() {    # fails_with_one_line DESCRIPTION INPUT-FILE
	"$GLMCHAT" render -m "$M" <"$2" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]
	ok $? "$1: exit 1, one line ($(head -c 100 "$tmp/err"))"
}
bad() {                    # bad DESCRIPTION JSON
	printf '%s' "$2" >"$tmp/bad"
	fails_with_one_line "$1" "$tmp/bad"
}
bad "truncated JSON" '{"messages": ['
bad "empty input" ''
head -c 100000 /dev/zero | tr '\0' '[' >"$tmp/deep"
fails_with_one_line "100000 nested arrays" "$tmp/deep"
bad "unknown role" '{"messages": [{"role": "robot", "content": "hi"}]}'
bad "content of the wrong type" '{"messages": [{"role": "user", "content": 7}]}'
bad "messages not a list" '{"messages": "hi"}'
bad "a number for a flag" '{"messages": [], "enable_thinking": 1}'
printf '{"messages": [{"role": "user", "content": "\377"}]}' >"$tmp/utf8"
fails_with_one_line "invalid UTF-8" "$tmp/utf8"

# A 20 MB message goes through whole.
{ printf '{"messages": [{"role": "user", "content": "'; head -c 20000000 /dev/zero | tr '\0' 'a'; printf '"}]}'; } |
	"$GLMCHAT" render -m "$M" >"$tmp/big"
[ $? -eq 0 ] && [ "$(wc -c <"$tmp/big")" -eq $((20000000 + 40)) ]
ok $? "a 20 MB message renders whole"

printf '{"messages": []}' | "$GLMCHAT" render -m "$tmp/missing.gguf" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "missing.gguf" "$tmp/err"
ok $? "a missing model file: exit 1 naming it"

# The same model with its chat template altered (same length, so the file
# stays valid): not GLM-4.7 any more.
perl -0777 -pe 's/last_user_index/last_user_indey/g' "$M" >"$tmp/other.gguf"
printf '{"messages": []}' | "$GLMCHAT" render -m "$tmp/other.gguf" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "other.gguf: unsupported chat template" "$tmp/err"
ok $? "an unknown chat template: exit 1 ($(head -c 100 "$tmp/err"))"

printf '{"messages": []}' | GLMCHAT_TEMPLATES="$tmp/none" "$GLMCHAT" render -m "$M" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "$tmp/none/glm-4.7.txt" "$tmp/err"
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
	"$GLMCHAT" render -m "$M" >"$tmp/got"
printf '[gMASK]<sop><|user|>hi' | cmp -s - "$tmp/got"
ok $? "defaults can be turned off; no newline is added"
