#!/bin/sh
# glmchat inspect on the fixture models (exit 0, the facts of their configs
# in the output), on broken files (exit 1, exactly one line on stderr) and
# with bad usage (exit 2). Prints TAP.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$GLMCHAT" ]; then
	skip_all "$GLMCHAT not built"
fi
make_tmp inspect

# run FILE...: stdout in $tmp/out, stderr in $tmp/err, status in $rc
run() {
	"$GLMCHAT" inspect "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
has() {   # has PATTERN: fixed string in stdout
	grep -qF -- "$1" "$tmp/out"
}
one_error_line() {   # one_error_line PREFIX: stderr is exactly one line starting with PREFIX
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && head -n 1 "$tmp/err" | grep -qF -- "$1"
}

# --- fixture models: values from their configs (fixtures/models/index.json)
for m in tiny-f32 tiny-bf16 tiny-q8_0 tiny-q4_0; do
	f="$FIX/models/$m.gguf"
	run "$f"
	ok $rc "$m: exit 0"
	has "tokenizer.ggml.tokens: [string × 2112]" &&
		has "layers               3 (1 dense + 2 MoE)" &&
		has "embedding            128, vocabulary 2112" &&
		has "MLA, 4 heads, q rank 64, kv rank 64, head k 48 (nope 32 + rope 16), v 32" &&
		has "16 routed, 4 used, 1 shared; ffn 64 (dense 256); sigmoid gating" &&
		has "context length       8192" &&
		has "chat template        present"
	ok $? "$m: summary has the config's facts"
	case $m in
	tiny-f32) ty=F32 ;; tiny-bf16) ty=BF16 ;; tiny-q8_0) ty=Q8_0 ;; tiny-q4_0) ty=Q4_0 ;;
	esac
	grep -Eq "^  blk\.1\.ffn_down_exps\.weight +$ty +\[64, 128, 16\] +[0-9]+$" "$tmp/out" &&
		grep -Eq "^  blk\.0\.attn_norm\.weight +F32 +\[128\] +512$" "$tmp/out" &&
		[ "$(grep -c '^  blk\.' "$tmp/out")" -eq 49 ]
	ok $? "$m: tensor table (49 block tensors, $ty matrices, F32 norms)"
	grep -q "^  bytes per token      [1-9][0-9]* (" "$tmp/out" &&
		grep -q "^  KV cache per token   f16 [1-9][0-9]* B, q8_0 [1-9][0-9]* B" "$tmp/out" &&
		grep -q "^  quant mix            .*F32" "$tmp/out"
	ok $? "$m: bytes per token, KV per token, quant mix"
	[ ! -s "$tmp/err" ]
	ok $? "$m: nothing on stderr"
done
run "$FIX/models/tiny-q8_0.gguf"
has "sigmoid gating (key absent: default)"
ok $? "tiny-q8_0: gating key absent reported as the sigmoid default"

for m in mla20-q4_k_m mla20-mix; do
	f="$SHARED/fixtures/models/$m.gguf"
	if [ ! -r "$f" ]; then
		skip "$f absent (no shared fixtures beside the checkout)"
		continue
	fi
	run "$f"
	[ $rc -eq 0 ] && has "MLA, 20 heads, q rank 256, kv rank 512, head k 256 (nope 192 + rope 64), v 256" &&
		has "8 routed, 4 used, 1 shared" && has "layers               2 (1 dense + 1 MoE)" &&
		grep -Eq "^  blk\.0\.attn_k_b\.weight +[A-Z0-9_]+ +\[192, 512, 20\]" "$tmp/out"
	ok $? "$m: real attention shapes described"
done

# --- broken files: exit 1, one line "glmchat: FILE: ..." on stderr
printf 'hello, not a model\n' >"$tmp/garbage.gguf"
run "$tmp/garbage.gguf"
[ $rc -eq 1 ] && one_error_line "glmchat: $tmp/garbage.gguf: offset 0: not a GGUF file" && [ ! -s "$tmp/out" ]
ok $? "garbage: exit 1, one line, nothing on stdout"

: >"$tmp/empty.gguf"
run "$tmp/empty.gguf"
[ $rc -eq 1 ] && one_error_line "glmchat: $tmp/empty.gguf: empty file"
ok $? "empty file: exit 1, one line"

run "$tmp/missing.gguf"
[ $rc -eq 1 ] && one_error_line "glmchat: $tmp/missing.gguf: No such file"
ok $? "missing file: exit 1, one line"

run "$tmp"
[ $rc -eq 1 ] && one_error_line "is a directory"
ok $? "directory: exit 1, one line"

src="$FIX/models/tiny-q4_0.gguf"
for cut in 3 20 100 5000 70000 500000; do
	head -c $cut "$src" >"$tmp/cut.gguf"
	run "$tmp/cut.gguf"
	[ $rc -eq 1 ] && one_error_line "glmchat: $tmp/cut.gguf: offset "
	ok $? "truncated to $cut bytes: exit 1, one line"
done

# a valid GGUF that is not a model glmchat runs: the architecture renamed
cp "$src" "$tmp/arch.gguf"
off=$(grep -obUa 'deepseek2' "$tmp/arch.gguf" | head -n 1 | cut -d: -f1)
printf 'deepseek3' | dd of="$tmp/arch.gguf" bs=1 seek="$off" conv=notrunc 2>/dev/null
run "$tmp/arch.gguf"
[ $rc -eq 1 ] && one_error_line "glmchat: $tmp/arch.gguf: unsupported architecture deepseek3" &&
	has 'general.architecture: "deepseek3"' && has "token_embd.weight"
ok $? "other architecture: described, then exit 1 with one line"

# --- usage
run
[ $rc -eq 2 ] && grep -q "no FILE" "$tmp/err"
ok $? "no arguments: exit 2"
run "$src" "$src"
[ $rc -eq 2 ]
ok $? "two files: exit 2"
run --frobnicate "$src"
[ $rc -eq 2 ]
ok $? "unknown option: exit 2"
run --help
[ $rc -eq 0 ] && has "Usage: glmchat inspect"
ok $? "--help: exit 0"
run -m "$src"
[ $rc -eq 0 ] && has "layers               3"
ok $? "-m FILE works too"

done_testing
