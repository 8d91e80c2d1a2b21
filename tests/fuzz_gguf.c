/* libFuzzer target over the loader: gguf_parse then glm_model_bind on a
 * private copy of the input, touching the first and last byte of every
 * tensor (so ASan sees any tensor that points outside the input).
 *
 * Built with -DGLMCHAT_LIBFUZZER (configure --enable-fuzzing, CC=clang) it
 * is a libFuzzer binary. Without it, the same code is a small program:
 *   fuzz_gguf_replay FILE...      run the target on files (reproduce a crash)
 *   fuzz_gguf_replay --seeds DIR  write a seed corpus: a small handcrafted
 *                                 file and a micro model with the real layout */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"
#include "tests/gguf_writer.h"

/* 0 parsed and bound, 1 parsed only, 2 rejected by the parser. */
static int run_one(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct gguf_file *f;
	struct glm_model *m;
	volatile uint8_t sink = 0;
	int rc = 2;

	if (!buf)
		return 2;
	memcpy(buf, data, size);
	if (gguf_parse(buf, size, "fuzz", &f, err, errlen) == 0) {
		for (uint64_t i = 0; i < f->n_tensors; i++) {
			const uint8_t *p = f->tensors[i].data;
			sink ^= p[0] ^ p[f->tensors[i].nbytes - 1];
		}
		rc = 1;
		if (glm_model_bind(f, &m, err, errlen) == 0) {
			sink ^= (uint8_t)glm_model_bytes_per_token(m);
			glm_model_free(m);
			rc = 0;
		} else {
			gguf_close(f);
		}
	}
	(void)sink;
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	run_one(data, size, err, sizeof err);
	return 0;
}

#ifndef GLMCHAT_LIBFUZZER

static int write_file(const char *dir, const char *name, const struct gw *w)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(w->p, 1, w->n, fp) != w->n || fclose(fp)) {
		fprintf(stderr, "fuzz_gguf_replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The GLM layout with tiny dims (2 layers, 1 dense, 4 experts, width 32):
 * a seed that gets through the parser into the binding. */
static void micro_model(struct gw *w)
{
	static struct gdoc d;
	static const uint8_t zeros[1 << 16];
	enum { E = 32, V = 32, H = 2, R = 32, NOPE = 32, ROT = 16, VH = 32, F = 32, X = 4 };
	const uint32_t Q8 = GGML_TYPE_Q8_0, F32 = GGML_TYPE_F32;
	char name[96];

	memset(&d, 0, sizeof d);
	d.version = 3;
	gdoc_set_str(&d, "general.architecture", "deepseek2");
	gdoc_set_str(&d, "general.name", "micro");
	static const struct { const char *k; uint32_t v; } u32s[] = {
		{"block_count", 2}, {"context_length", 64}, {"embedding_length", E},
		{"feed_forward_length", F}, {"leading_dense_block_count", 1}, {"attention.head_count", H},
		{"attention.head_count_kv", 1}, {"attention.q_lora_rank", R}, {"attention.kv_lora_rank", R},
		{"attention.key_length", R + ROT}, {"attention.value_length", R},
		{"attention.key_length_mla", NOPE + ROT}, {"attention.value_length_mla", VH},
		{"rope.dimension_count", ROT}, {"expert_count", X}, {"expert_used_count", 2},
		{"expert_shared_count", 1}, {"expert_feed_forward_length", F}, {"expert_gating_func", 2},
		{"vocab_size", V},
	};
	for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
		snprintf(name, sizeof name, "deepseek2.%s", u32s[i].k);
		gdoc_set_u32(&d, name, u32s[i].v);
	}
	gdoc_set_f32(&d, "deepseek2.attention.layer_norm_rms_epsilon", 1e-5f);
	gdoc_set_f32(&d, "deepseek2.rope.freq_base", 1e6f);
	gdoc_set_f32(&d, "deepseek2.expert_weights_scale", 1.8f);

	gdoc_add_tensor(&d, "token_embd.weight", Q8, E, V, 1, zeros);
	for (int l = 0; l < 2; l++) {
#define T(suffix, type, a, b, c) \
	do { snprintf(name, sizeof name, "blk.%d." suffix, l); gdoc_add_tensor(&d, name, type, a, b, c, zeros); } while (0)
		T("attn_norm.weight", F32, E, 1, 1);
		T("attn_q_a.weight", Q8, E, R, 1);
		T("attn_q_a_norm.weight", F32, R, 1, 1);
		T("attn_q_b.weight", Q8, R, H * (NOPE + ROT), 1);
		T("attn_kv_a_mqa.weight", Q8, E, R + ROT, 1);
		T("attn_kv_a_norm.weight", F32, R, 1, 1);
		T("attn_k_b.weight", Q8, NOPE, R, H);
		T("attn_v_b.weight", Q8, R, VH, H);
		T("attn_output.weight", Q8, H * VH, E, 1);
		T("ffn_norm.weight", F32, E, 1, 1);
		if (l == 0) {
			T("ffn_gate.weight", Q8, E, F, 1);
			T("ffn_up.weight", Q8, E, F, 1);
			T("ffn_down.weight", Q8, F, E, 1);
		} else {
			T("ffn_gate_inp.weight", F32, E, X, 1);
			T("exp_probs_b.bias", F32, X, 1, 1);
			T("ffn_gate_up_exps.weight", Q8, E, 2 * F, X);
			T("ffn_down_exps.weight", Q8, F, E, X);
			T("ffn_gate_shexp.weight", Q8, E, F, 1);
			T("ffn_up_shexp.weight", Q8, E, F, 1);
			T("ffn_down_shexp.weight", Q8, F, E, 1);
		}
#undef T
	}
	gdoc_add_tensor(&d, "output_norm.weight", F32, E, 1, 1, zeros);
	gdoc_add_tensor(&d, "output.weight", Q8, E, V, 1, zeros);
	gdoc_emit(&d, w);
}

/* Every key and array kind plus three small tensors. */
static void small_file(struct gw *w)
{
	static const uint8_t zeros[256];
	static struct gdoc d;
	static const uint32_t ints[3] = {1, 2, 3};
	static const struct gguf_str strs[2] = {{"ab", 2}, {"", 0}};

	memset(&d, 0, sizeof d);
	d.version = 3;
	gdoc_set_str(&d, "general.architecture", "test");
	gdoc_set_u32(&d, "general.alignment", 32);
	gdoc_set_f32(&d, "test.f32", 0.5f);
	struct gdoc_kv *kv = &d.kv[d.n_kv++];
	snprintf(kv->key, sizeof kv->key, "test.ints");
	kv->type = GGUF_TYPE_ARRAY; kv->atype = GGUF_TYPE_UINT32; kv->n = 3; kv->adata = ints;
	kv = &d.kv[d.n_kv++];
	snprintf(kv->key, sizeof kv->key, "test.strs");
	kv->type = GGUF_TYPE_ARRAY; kv->atype = GGUF_TYPE_STRING; kv->n = 2; kv->astrs = strs;
	gdoc_add_tensor(&d, "a", GGML_TYPE_F32, 4, 2, 1, zeros);
	gdoc_add_tensor(&d, "b", GGML_TYPE_Q4_K, 256, 1, 1, zeros);
	gdoc_add_tensor(&d, "c", GGML_TYPE_BF16, 8, 1, 1, zeros);
	gdoc_emit(&d, w);
}

static int write_seeds(const char *dir)
{
	struct gw w = {0};
	char err[256];
	int rc = 0;

	micro_model(&w);
	if (run_one(w.p, w.n, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_gguf_replay: the micro model does not bind: %s\n", err);
		rc = 1;
	}
	rc |= write_file(dir, "micro-model.gguf", &w) ? 1 : 0;
	small_file(&w);
	rc |= write_file(dir, "small.gguf", &w) ? 1 : 0;
	free(w.p);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const what[] = {"parsed and bound", "parsed, not bound", "rejected"};
	char err[512];
	int status = 0;

	if (argc == 3 && !strcmp(argv[1], "--seeds"))
		return write_seeds(argv[2]);
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fuzz_gguf_replay FILE... | --seeds DIR\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		long n = -1;
		if (fp && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
		    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, fp) == (size_t)n) {
			err[0] = '\0';
			int rc = run_one(buf, (size_t)n, err, sizeof err);
			printf("%s: %s%s%s\n", argv[i], what[rc], rc ? ": " : "", rc ? err : "");
		} else {
			fprintf(stderr, "fuzz_gguf_replay: %s: cannot read\n", argv[i]);
			status = 1;
		}
		free(buf);
		if (fp)
			fclose(fp);
	}
	return status;
}

#endif
