#!/bin/sh
# glmchat tokenize / detokenize: ids as the reference library gives them
# (fixtures/tokenizer/encode.jsonl), byte-exact round trips of binary input,
# and the exit statuses of INTERFACE.md (1 runtime, 2 usage).
GLMCHAT=${GLMCHAT:-src/glmchat}
FIX=${GLMCHAT_FIXTURES:-tests/fixtures}
M="$FIX/models/tiny-bf16.gguf"
ROWS="$FIX/tokenizer/encode.jsonl"
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$ROWS" ]; then
	echo "1..0 # SKIP needs $GLMCHAT, $M and $ROWS"
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

# The ids of a fixture row, space-separated. $1: the row's exact text field
# as it appears in the file; $2: ids or ids_plain.
row_ids() {
	grep -F "{\"text\": \"$1\", " "$ROWS" | head -n 1 |
		sed "s/.*\"$2\": \[\([^]]*\)\].*/\1/" | tr -d ','
}

echo "1..16"

want=$(row_ids "Hello, world!" ids_plain)
got=$(printf 'Hello, world!' | "$GLMCHAT" tokenize -m "$M")
[ -n "$want" ] && [ "$got" = "$want" ]
ok $? "tokenize 'Hello, world!' gives the reference ids ($got)"

text='<|user|>hello<|assistant|>'
want=$(row_ids "$text" ids_plain)
got=$(printf '%s' "$text" | "$GLMCHAT" tokenize -m "$M")
[ -n "$want" ] && [ "$got" = "$want" ]
ok $? "without --special control-token text is ordinary text"

want=$(row_ids "$text" ids)
got=$(printf '%s' "$text" | "$GLMCHAT" tokenize -m "$M" --special)
[ -n "$want" ] && [ "$got" = "$want" ]
ok $? "with --special it becomes control tokens ($got)"

want=$(row_ids 'def f(x):\n    return x * 2\n' ids_plain)
got=$(printf 'def f(x):\n    return x * 2\n' | "$GLMCHAT" tokenize -m "$M")
[ -n "$want" ] && [ "$got" = "$want" ]
ok $? "code with newlines and indentation gives the reference ids"

# Binary input: NULs, invalid UTF-8, a cut character, control-token text.
printf 'a\000b\377\376c\303(\342\202 <|user|>\000\000\n\r\n\344\270' >"$TMP/bin"
"$GLMCHAT" tokenize -m "$M" <"$TMP/bin" >"$TMP/ids"
ok $? "tokenize accepts NULs and invalid UTF-8"
"$GLMCHAT" detokenize -m "$M" <"$TMP/ids" >"$TMP/back"
cmp -s "$TMP/bin" "$TMP/back"
ok $? "tokenize | detokenize gives the input back byte for byte"

cat "$FIX/quant/Q4_K.blocks" "$FIX/tokenizer/encode.jsonl" >"$TMP/big"
"$GLMCHAT" tokenize -m "$M" --special <"$TMP/big" | "$GLMCHAT" detokenize -m "$M" >"$TMP/back"
cmp -s "$TMP/big" "$TMP/back"
ok $? "the same for 40 KB of random blocks and text, with --special"

: | "$GLMCHAT" tokenize -m "$M" >"$TMP/empty"
[ "$(cat "$TMP/empty")" = "" ] && [ "$(wc -c <"$TMP/empty")" -eq 1 ]
ok $? "empty input: an empty line"

printf 'Hi\n' | "$GLMCHAT" tokenize -m "$M" --pieces >"$TMP/pieces"
printf 'Hi\n' | "$GLMCHAT" tokenize -m "$M" | tr ' ' '\n' >"$TMP/ids1"
cut -f1 "$TMP/pieces" | cmp -s - "$TMP/ids1" && tail -n 1 "$TMP/pieces" | grep -q '	\\n$'
ok $? "--pieces: one 'id<TAB>piece' line per id, newline escaped"

printf '' | "$GLMCHAT" detokenize -m "$M" >"$TMP/out"
ok $? "detokenize of no ids succeeds"
[ ! -s "$TMP/out" ]
ok $? "and prints nothing"

# 2112 is one past the tiny models' vocabulary (fixtures/README.md).
for bad in '1 2 x' '1 -2' '1 2112' '1 2,3' '99999999999999999999'; do
	echo "$bad" | "$GLMCHAT" detokenize -m "$M" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -s "$TMP/out" ] || break
done
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -s "$TMP/out" ]
ok $? "bad ids (not a number, negative, out of range, comma, huge): exit 1, one line, no output"

printf 'x' | "$GLMCHAT" tokenize >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "tokenize without -m: exit 2"

echo 1 | "$GLMCHAT" detokenize >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "detokenize without -m: exit 2"

printf 'x' | "$GLMCHAT" tokenize -m "$FIX/quant/Q4_K.blocks" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]
ok $? "tokenize with a file that is not GGUF: exit 1, one line"

printf 'x' | "$GLMCHAT" tokenize -m "$M" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "an unknown option: exit 2"

[ $fails -eq 0 ]
