#!/bin/sh
# glmchat tokenize / detokenize: ids as the reference library gives them
# (fixtures/tokenizer/encode.jsonl), byte-exact round trips of binary input,
# and the exit statuses of INTERFACE.md (1 runtime, 2 usage).
. "$(dirname "$0")/lib.sh"
M="$FIX/models/tiny-bf16.gguf"
ROWS="$FIX/tokenizer/encode.jsonl"

if [ ! -x "$GLMCHAT" ] || [ ! -f "$M" ] || [ ! -f "$ROWS" ]; then
	skip_all "needs $GLMCHAT, $M and $ROWS"
fi
make_tmp tokenize-cli

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
printf 'a\000b\377\376c\303(\342\202 <|user|>\000\000\n\r\n\344\270' >"$tmp/bin"
"$GLMCHAT" tokenize -m "$M" <"$tmp/bin" >"$tmp/ids"
ok $? "tokenize accepts NULs and invalid UTF-8"
"$GLMCHAT" detokenize -m "$M" <"$tmp/ids" >"$tmp/back"
cmp -s "$tmp/bin" "$tmp/back"
ok $? "tokenize | detokenize gives the input back byte for byte"

cat "$FIX/quant/Q4_K.blocks" "$FIX/tokenizer/encode.jsonl" >"$tmp/big"
"$GLMCHAT" tokenize -m "$M" --special <"$tmp/big" | "$GLMCHAT" detokenize -m "$M" >"$tmp/back"
cmp -s "$tmp/big" "$tmp/back"
ok $? "the same for 40 KB of random blocks and text, with --special"

: | "$GLMCHAT" tokenize -m "$M" >"$tmp/empty"
[ "$(cat "$tmp/empty")" = "" ] && [ "$(wc -c <"$tmp/empty")" -eq 1 ]
ok $? "empty input: an empty line"

printf 'Hi\n' | "$GLMCHAT" tokenize -m "$M" --pieces >"$tmp/pieces"
printf 'Hi\n' | "$GLMCHAT" tokenize -m "$M" | tr ' ' '\n' >"$tmp/ids1"
cut -f1 "$tmp/pieces" | cmp -s - "$tmp/ids1" && tail -n 1 "$tmp/pieces" | grep -q '	\\n$'
ok $? "--pieces: one 'id<TAB>piece' line per id, newline escaped"

printf '' | "$GLMCHAT" detokenize -m "$M" >"$tmp/out"
ok $? "detokenize of no ids succeeds"
[ ! -s "$tmp/out" ]
ok $? "and prints nothing"

# 2112 is one past the tiny models' vocabulary (fixtures/README.md).
for bad in '1 2 x' '1 -2' '1 2112' '1 2,3' '99999999999999999999'; do
	echo "$bad" | "$GLMCHAT" detokenize -m "$M" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] || break
done
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]
ok $? "bad ids (not a number, negative, out of range, comma, huge): exit 1, one line, no output"

printf 'x' | "$GLMCHAT" tokenize >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "tokenize without -m: exit 2"

echo 1 | "$GLMCHAT" detokenize >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "detokenize without -m: exit 2"

printf 'x' | "$GLMCHAT" tokenize -m "$FIX/quant/Q4_K.blocks" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
ok $? "tokenize with a file that is not GGUF: exit 1, one line"

printf 'x' | "$GLMCHAT" tokenize -m "$M" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "an unknown option: exit 2"

[ $fails -eq 0 ]
