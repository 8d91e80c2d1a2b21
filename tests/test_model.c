/* Binding the fixture models: hyper-parameters and tensor types against the
 * fixtures' index.json (the configs the reference models were built from),
 * bytes per token against a sum over the file's tensors, then modified
 * copies of a tiny model (missing keys and tensors, wrong shapes and types,
 * another architecture, gating values, fused gate_up experts, a skipped
 * next-token-prediction block) built in memory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "engine/model.h"
#include "tests/testutil.h"
#include "tests/gguf_writer.h"

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Weights read per token, summed from the file's tensor list by name:
 * everything once, except expert stacks (n_used of n_expert slabs) and the
 * embedding (one row). */
static uint64_t expected_bytes_per_token(const struct gguf_file *f, uint32_t n_used, uint32_t n_layer)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < f->n_tensors; i++) {
		const struct glm_tensor *t = &f->tensors[i];
		unsigned l;
		if (sscanf(t->name, "blk.%u.", &l) == 1 && l >= n_layer)
			continue;
		if (!strcmp(t->name, "token_embd.weight"))
			sum += t->nbytes / (uint64_t)t->ne[1];
		else if (strstr(t->name, "_exps."))
			sum += t->nbytes / (uint64_t)t->ne[2] * n_used;
		else
			sum += t->nbytes;
	}
	return sum;
}

static void check_fixture(const char *name, const char *path, const cJSON *entry)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(entry, "config");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(entry, "tensor_types");
	const cJSON *layer_types = cJSON_GetObjectItemCaseSensitive(cfg, "mlp_layer_types");
	const cJSON *rope = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters");
	const cJSON *drop = cJSON_GetObjectItemCaseSensitive(entry, "drop_keys");
	struct glm_model *m;
	char err[512];

	if (!ok(glm_model_load(path, &m, err, sizeof err) == 0, "%s: binds", name)) {
		diag("  %s", err);
		skip(8, "%s did not bind", name);
		return;
	}
	const struct glm_hparams *hp = &m->hp;
	uint32_t dense = 0;
	const cJSON *lt;
	cJSON_ArrayForEach(lt, layer_types)
		dense += cJSON_IsString(lt) && !strcmp(lt->valuestring, "dense");
	ok(hp->n_vocab == num(cfg, "vocab_size") && hp->n_embd == num(cfg, "hidden_size") &&
	   hp->n_layer == num(cfg, "num_hidden_layers") && hp->n_layer_file == hp->n_layer &&
	   hp->n_leading_dense == dense && hp->n_ff == num(cfg, "intermediate_size") &&
	   hp->n_ff_exp == num(cfg, "moe_intermediate_size") && hp->n_ctx_train == num(cfg, "max_position_embeddings"),
	   "%s: vocab %u, embd %u, layers %u (%u dense), ffn %u/%u, context %llu", name, hp->n_vocab,
	   hp->n_embd, hp->n_layer, hp->n_leading_dense, hp->n_ff, hp->n_ff_exp,
	   (unsigned long long)hp->n_ctx_train);
	ok(hp->n_head == num(cfg, "num_attention_heads") && hp->q_lora_rank == num(cfg, "q_lora_rank") &&
	   hp->kv_lora_rank == num(cfg, "kv_lora_rank") && hp->n_embd_head_qk_nope == num(cfg, "qk_nope_head_dim") &&
	   hp->n_rot == num(cfg, "qk_rope_head_dim") && hp->n_embd_head_v == num(cfg, "v_head_dim") &&
	   hp->n_embd_head_k == hp->n_embd_head_qk_nope + hp->n_rot,
	   "%s: MLA heads %u, q rank %u, kv rank %u, nope/rope/v %u/%u/%u", name, hp->n_head,
	   hp->q_lora_rank, hp->kv_lora_rank, hp->n_embd_head_qk_nope, hp->n_rot, hp->n_embd_head_v);
	ok(hp->n_expert == num(cfg, "n_routed_experts") && hp->n_expert_used == num(cfg, "num_experts_per_tok") &&
	   hp->n_expert_shared == num(cfg, "n_shared_experts") &&
	   hp->expert_weights_norm == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "norm_topk_prob")) &&
	   fabsf(hp->expert_weights_scale - (float)num(cfg, "routed_scaling_factor")) < 1e-6f &&
	   hp->gating == GLM_GATING_SIGMOID &&
	   (!drop || !gguf_find(m->gguf, "deepseek2.expert_gating_func")),
	   "%s: experts %u, top-%u, %u shared, sigmoid, norm, scale %g%s", name, hp->n_expert,
	   hp->n_expert_used, hp->n_expert_shared, hp->expert_weights_scale,
	   drop ? " (gating key absent)" : "");
	ok(hp->rms_eps == (float)num(cfg, "rms_norm_eps") && hp->rms_eps_inner == 1e-6f &&
	   hp->rope_freq_base == (float)num(rope, "rope_theta"),
	   "%s: eps %g (inner %g), rope theta %g", name, hp->rms_eps, hp->rms_eps_inner, hp->rope_freq_base);

	/* per-type tensor counts, as the fixture generator recorded them */
	bool types_ok = true;
	int n_types = 0;
	const cJSON *ty;
	cJSON_ArrayForEach(ty, types) {
		int count = 0;
		for (uint64_t i = 0; i < m->gguf->n_tensors; i++)
			count += !strcmp(ggml_type_name(m->gguf->tensors[i].type), ty->string);
		types_ok &= count == ty->valueint;
		n_types += ty->valueint;
	}
	ok(types_ok && n_types == (int)m->gguf->n_tensors, "%s: tensor types as recorded (%d tensors)",
	   name, n_types);

	bool layers_ok = m->token_embd && m->output && m->output != m->token_embd && m->output_norm;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct glm_layer *L = &m->layers[l];
		bool moe = l >= dense;
		layers_ok &= L->is_moe == moe && L->attn_norm && L->attn_q_a && L->attn_q_a_norm &&
		             L->attn_q_b && L->attn_kv_a_mqa && L->attn_kv_a_norm && L->attn_k_b &&
		             L->attn_v_b && L->attn_output && L->ffn_norm;
		if (moe)
			layers_ok &= L->ffn_gate_inp && L->exp_probs_b && L->ffn_gate_exps && L->ffn_up_exps &&
			             L->ffn_down_exps && L->ffn_gate_shexp && L->ffn_up_shexp && L->ffn_down_shexp &&
			             !L->ffn_gate && L->ffn_gate_exps->ne[2] == hp->n_expert;
		else
			layers_ok &= L->ffn_gate && L->ffn_up && L->ffn_down && !L->ffn_gate_exps;
	}
	ok(layers_ok, "%s: every layer's tensors bound, dense/MoE as configured", name);
	const struct glm_tensor *kb = m->layers[0].attn_k_b;
	ok(kb->ne[0] == hp->n_embd_head_qk_nope && kb->ne[1] == hp->kv_lora_rank && kb->ne[2] == hp->n_head &&
	   glm_tensor_row(kb, 1, 1) == (const char *)kb->data + kb->nb[2] + kb->nb[1],
	   "%s: attn_k_b is [nope, kv rank, heads] with head slabs", name);
	uint64_t want = expected_bytes_per_token(m->gguf, hp->n_expert_used, hp->n_layer);
	uint64_t got = glm_model_bytes_per_token(m);
	if (!ok(got == want, "%s: bytes per token %llu", name, (unsigned long long)got))
		diag("  want %llu", (unsigned long long)want);
	glm_model_free(m);
}

/* ---- modified copies ---- */

static struct gguf_file *base_file;    /* tiny-q8_0, parsed from memory */
static char *base_buf;
static struct gw out;

/* Emit d, parse and bind it. 0 on success (model freed), else -1 with err. */
static int bind_doc(const struct gdoc *d, char *err, size_t errlen, struct glm_model **keep)
{
	struct gguf_file *f;
	struct glm_model *m;

	gdoc_emit(d, &out);
	if (gguf_parse(out.p, out.n, "mod.gguf", &f, err, errlen))
		return -1;
	if (glm_model_bind(f, &m, err, errlen)) {
		gguf_close(f);
		return -1;
	}
	if (keep)
		*keep = m;
	else
		glm_model_free(m);
	return 0;
}

static void expect_error(const struct gdoc *d, const char *want, const char *what)
{
	char err[512] = "";
	int rc = bind_doc(d, err, sizeof err, NULL);

	if (!ok(rc && !strncmp(err, "mod.gguf: ", 10) && strstr(err, want), "%s", what))
		diag("  error \"%s\", want it to mention \"%s\"", err, want);
}

static void check_modified(void)
{
	static struct gdoc d;
	struct glm_model *m;
	char err[512];

	gdoc_from(&d, base_file);
	ok(bind_doc(&d, err, sizeof err, NULL) == 0, "unmodified re-emitted copy binds");

	gdoc_from(&d, base_file);
	gdoc_del_kv(&d, "deepseek2.block_count");
	expect_error(&d, "missing key deepseek2.block_count", "missing block_count named");

	gdoc_from(&d, base_file);
	gdoc_del_kv(&d, "deepseek2.attention.kv_lora_rank");
	expect_error(&d, "missing key deepseek2.attention.kv_lora_rank", "missing kv_lora_rank named");

	gdoc_from(&d, base_file);
	gdoc_set_str(&d, "deepseek2.embedding_length", "128");
	expect_error(&d, "deepseek2.embedding_length: not an unsigned", "string-typed embedding_length refused");

	gdoc_from(&d, base_file);
	gdoc_del_tensor(&d, "blk.1.ffn_up_exps.weight");
	expect_error(&d, "missing tensor blk.1.ffn_up_exps.weight", "missing expert tensor named");

	gdoc_from(&d, base_file);
	gdoc_del_tensor(&d, "output_norm.weight");
	expect_error(&d, "missing tensor output_norm.weight", "missing output_norm named");

	gdoc_from(&d, base_file);
	struct gdoc_tensor *t = gdoc_tensor(&d, "blk.0.attn_q_a.weight");
	t->ne[1] = 32;
	t->nbytes /= 2;
	expect_error(&d, "tensor blk.0.attn_q_a.weight: wrong shape [128, 32], expected [128, 64]",
	             "wrong shape named with both shapes");

	gdoc_from(&d, base_file);
	t = gdoc_tensor(&d, "blk.2.attn_k_b.weight");
	t->ne[2] = 2;
	t->nbytes /= 2;
	expect_error(&d, "blk.2.attn_k_b.weight: wrong shape [32, 64, 2], expected [32, 64, 4]",
	             "wrong head count in attn_k_b");

	gdoc_from(&d, base_file);
	t = gdoc_tensor(&d, "blk.0.ffn_down.weight");   /* [256, 128]: whole IQ2_XS blocks */
	t->type = GGML_TYPE_IQ2_XS;
	t->nbytes = 74 * 128;
	expect_error(&d, "blk.0.ffn_down.weight: unsupported tensor type IQ2_XS", "unsupported type named");

	gdoc_from(&d, base_file);
	t = gdoc_tensor(&d, "blk.0.attn_norm.weight");
	t->type = GGML_TYPE_F16;
	t->nbytes /= 2;
	expect_error(&d, "blk.0.attn_norm.weight: type F16, expected F32", "norm must be F32");

	gdoc_from(&d, base_file);
	gdoc_set_str(&d, "general.architecture", "llama");
	expect_error(&d, "unsupported architecture llama", "another architecture refused");

	gdoc_from(&d, base_file);
	gdoc_set_u32(&d, "deepseek2.vocab_size", 2000);
	expect_error(&d, "vocab_size: 2000", "vocab_size disagreeing with token_embd");

	gdoc_from(&d, base_file);
	gdoc_set_u32(&d, "deepseek2.expert_used_count", 17);
	expect_error(&d, "expert_used_count: 17 exceeds expert_count 16", "more experts used than exist");

	gdoc_from(&d, base_file);
	gdoc_set_u32(&d, "deepseek2.leading_dense_block_count", 4);
	expect_error(&d, "leading_dense_block_count: 4 exceeds the 3 layers", "more dense layers than layers");

	gdoc_from(&d, base_file);
	gdoc_set_u32(&d, "deepseek2.block_count", 0);
	expect_error(&d, "deepseek2.block_count: 0 is out of range", "zero layers");

	/* an extra tensor means a layout we do not understand */
	gdoc_from(&d, base_file);
	d.t[d.n_t] = *gdoc_tensor(&d, "blk.0.attn_k_b.weight");
	snprintf(d.t[d.n_t].name, sizeof d.t[0].name, "blk.0.attn_kv_b.weight");
	d.n_t++;
	expect_error(&d, "unexpected tensor blk.0.attn_kv_b.weight", "unknown tensor refused");

	/* gating: 1 softmax, 2 sigmoid, absent sigmoid (base file), else error */
	static const struct { uint32_t v; int want; } gating[] = {
		{1, GLM_GATING_SOFTMAX}, {2, GLM_GATING_SIGMOID}, {0, -1}, {3, -1},
	};
	for (size_t i = 0; i < sizeof gating / sizeof gating[0]; i++) {
		gdoc_from(&d, base_file);
		gdoc_set_u32(&d, "deepseek2.expert_gating_func", gating[i].v);
		if (gating[i].want < 0) {
			char what[64];
			snprintf(what, sizeof what, "expert_gating_func %u refused", gating[i].v);
			expect_error(&d, "expert_gating_func", what);
			continue;
		}
		m = NULL;
		ok(bind_doc(&d, err, sizeof err, &m) == 0 && m->hp.gating == (enum glm_gating)gating[i].want,
		   "expert_gating_func %u -> %s", gating[i].v, gating[i].want == GLM_GATING_SOFTMAX ? "softmax" : "sigmoid");
		glm_model_free(m);
	}

	/* a next-token-prediction block past the main stack is skipped */
	gdoc_from(&d, base_file);
	gdoc_set_u32(&d, "deepseek2.block_count", 4);
	gdoc_set_u32(&d, "deepseek2.nextn_predict_layers", 1);
	int n0 = d.n_t;
	for (int i = 0; i < n0; i++)
		if (!strncmp(d.t[i].name, "blk.2.", 6)) {
			d.t[d.n_t] = d.t[i];
			d.t[d.n_t].name[4] = '3';
			d.n_t++;
		}
	d.t[d.n_t] = *gdoc_tensor(&d, "blk.2.attn_q_a.weight");
	snprintf(d.t[d.n_t].name, sizeof d.t[0].name, "blk.3.nextn.eh_proj.weight");
	d.n_t++;
	m = NULL;
	if (!ok(bind_doc(&d, err, sizeof err, &m) == 0 && m->hp.n_layer == 3 && m->hp.n_layer_file == 4,
	        "nextn block: 4 blocks in the file, 3 run"))
		diag("  %s", err);
	glm_model_free(m);
	gdoc_del_kv(&d, "deepseek2.nextn_predict_layers");
	expect_error(&d, "unexpected tensor blk.3.nextn.eh_proj.weight",
	             "the same block without nextn_predict_layers is not skipped");
}

/* ffn_gate_exps + ffn_up_exps fused into ffn_gate_up_exps: per expert, the
 * gate rows then the up rows. The views must address the original rows. */
static void check_fused(void)
{
	static struct gdoc d;
	struct glm_model *ref = NULL, *m = NULL;
	char err[512], name[96];
	void *fused_data[8] = {0};
	int nf = 0;

	if (glm_model_bind(base_file, &ref, err, sizeof err)) {
		skip(3, "base file does not bind: %s", err);
		return;
	}
	gdoc_from(&d, base_file);
	for (uint32_t l = ref->hp.n_leading_dense; l < ref->hp.n_layer && nf < 8; l++) {
		const struct glm_layer *L = &ref->layers[l];
		const struct glm_tensor *g = L->ffn_gate_exps, *u = L->ffn_up_exps;
		size_t slab = (size_t)g->ne[1] * g->nb[1];
		uint8_t *buf = malloc(2 * g->nbytes);
		for (int64_t e = 0; e < g->ne[2]; e++) {
			memcpy(buf + 2 * slab * (size_t)e, glm_tensor_row(g, 0, e), slab);
			memcpy(buf + 2 * slab * (size_t)e + slab, glm_tensor_row(u, 0, e), slab);
		}
		fused_data[nf++] = buf;
		snprintf(name, sizeof name, "blk.%u.ffn_gate_exps.weight", l);
		struct gdoc_tensor *t = gdoc_tensor(&d, name);
		if (!t)
			bail_out("%s missing from the base file", name);
		snprintf(t->name, sizeof t->name, "blk.%u.ffn_gate_up_exps.weight", l);
		t->ne[1] *= 2;
		t->nbytes *= 2;
		t->data = buf;
		snprintf(name, sizeof name, "blk.%u.ffn_up_exps.weight", l);
		gdoc_del_tensor(&d, name);
	}
	int rc = bind_doc(&d, err, sizeof err, &m);
	if (!ok(rc == 0, "fused ffn_gate_up_exps binds")) {
		diag("  %s", err);
		skip(2, "no model");
	} else {
		bool same = true;
		for (uint32_t l = ref->hp.n_leading_dense; l < ref->hp.n_layer; l++) {
			const struct glm_layer *a = &ref->layers[l], *b = &m->layers[l];
			same &= b->ffn_gate_exps == &b->fused_gate_view && b->ffn_up_exps == &b->fused_up_view &&
			        b->ffn_gate_exps->ne[1] == a->ffn_gate_exps->ne[1] &&
			        b->ffn_up_exps->ne[2] == a->ffn_up_exps->ne[2];
			for (int64_t e = 0; e < a->ffn_gate_exps->ne[2]; e++)
				for (int64_t r = 0; r < a->ffn_gate_exps->ne[1]; r += 7) {
					size_t rb = a->ffn_gate_exps->nb[1];
					same &= !memcmp(glm_tensor_row(a->ffn_gate_exps, r, e),
					                glm_tensor_row(b->ffn_gate_exps, r, e), rb);
					same &= !memcmp(glm_tensor_row(a->ffn_up_exps, r, e),
					                glm_tensor_row(b->ffn_up_exps, r, e), rb);
				}
		}
		ok(same, "fused views address each expert's gate and up rows");
		is_int(glm_model_bytes_per_token(m), glm_model_bytes_per_token(ref),
		       "fused file reads the same bytes per token");
		glm_model_free(m);
	}
	/* glm_model_bind took base_file only on success: give it back untouched */
	ref->gguf = NULL;
	glm_model_free(ref);
	for (int i = 0; i < nf; i++)
		free(fused_data[i]);
}

/* The real GLM-4.7-Flash shapes with make_fullsize.py's q4_k_m recipe:
 * a 2.3 MB header over a sparse 18 GiB file. The expected figures are the
 * spec's (§3.3: 844 tensors, 281 of them F32; §1: 29.94 B parameters, f16
 * cache 54,144 B per token) and peer-bench-h200.md's 2.387 GB of weights
 * read per decoded token for this file. */
static void check_fullsize(void)
{
	enum { D = 2048, L = 47, H = 20, QR = 768, KR = 512, DN = 192, DR = 64, DV = 256,
	       E = 64, FE = 1536, F = 10240, V = 154880 };
	const uint32_t MAT = GGML_TYPE_Q4_K, DOWN = GGML_TYPE_Q6_K, Q8 = GGML_TYPE_Q8_0, F32 = GGML_TYPE_F32;
	static struct gdoc d;
	struct gw w = {0};
	struct glm_model *m = NULL;
	char path[4200], name[96], err[512];
	const char *tmp = getenv("TMPDIR");
	int fd;

	memset(&d, 0, sizeof d);
	d.version = 3;
	gdoc_set_str(&d, "general.architecture", "deepseek2");
	static const struct { const char *k; uint32_t v; } u32s[] = {
		{"block_count", L}, {"context_length", 202752}, {"embedding_length", D},
		{"feed_forward_length", F}, {"leading_dense_block_count", 1}, {"attention.head_count", H},
		{"attention.head_count_kv", 1}, {"attention.q_lora_rank", QR}, {"attention.kv_lora_rank", KR},
		{"attention.key_length", KR + DR}, {"attention.value_length", KR},
		{"attention.key_length_mla", DN + DR}, {"attention.value_length_mla", DV},
		{"rope.dimension_count", DR}, {"expert_count", E}, {"expert_used_count", 4},
		{"expert_shared_count", 1}, {"expert_feed_forward_length", FE}, {"vocab_size", V},
	};
	for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
		snprintf(name, sizeof name, "deepseek2.%s", u32s[i].k);
		gdoc_set_u32(&d, name, u32s[i].v);
	}
	gdoc_set_f32(&d, "deepseek2.attention.layer_norm_rms_epsilon", 1e-5f);
	gdoc_set_f32(&d, "deepseek2.rope.freq_base", 1e6f);
	gdoc_set_f32(&d, "deepseek2.expert_weights_scale", 1.8f);
	gdoc_set_bool(&d, "deepseek2.expert_weights_norm", true);
	gdoc_add_tensor(&d, "token_embd.weight", MAT, D, V, 1, NULL);
	for (int l = 0; l < L; l++) {
#define T(suffix, type, a, b, c) \
	do { snprintf(name, sizeof name, "blk.%d." suffix, l); gdoc_add_tensor(&d, name, type, a, b, c, NULL); } while (0)
		T("attn_norm.weight", F32, D, 1, 1);
		T("attn_q_a.weight", MAT, D, QR, 1);
		T("attn_q_a_norm.weight", F32, QR, 1, 1);
		T("attn_q_b.weight", MAT, QR, H * (DN + DR), 1);
		T("attn_kv_a_mqa.weight", MAT, D, KR + DR, 1);
		T("attn_kv_a_norm.weight", F32, KR, 1, 1);
		T("attn_k_b.weight", Q8, DN, KR, H);
		T("attn_v_b.weight", DOWN, KR, DV, H);
		T("attn_output.weight", MAT, H * DV, D, 1);
		T("ffn_norm.weight", F32, D, 1, 1);
		if (l == 0) {
			T("ffn_gate.weight", MAT, D, F, 1);
			T("ffn_up.weight", MAT, D, F, 1);
			T("ffn_down.weight", DOWN, F, D, 1);
			continue;
		}
		T("ffn_gate_inp.weight", F32, D, E, 1);
		T("exp_probs_b.bias", F32, E, 1, 1);
		T("ffn_gate_exps.weight", MAT, D, FE, E);
		T("ffn_up_exps.weight", MAT, D, FE, E);
		T("ffn_down_exps.weight", DOWN, FE, D, E);
		T("ffn_gate_shexp.weight", MAT, D, FE, 1);
		T("ffn_up_shexp.weight", MAT, D, FE, 1);
		T("ffn_down_shexp.weight", DOWN, FE, D, 1);
#undef T
	}
	gdoc_add_tensor(&d, "output_norm.weight", F32, D, 1, 1, NULL);
	gdoc_add_tensor(&d, "output.weight", DOWN, D, V, 1, NULL);
	uint64_t data = gdoc_emit_header(&d, &w);

	snprintf(path, sizeof path, "%s/test_model_full.%d.gguf", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0 || write(fd, w.p, w.n) != (ssize_t)w.n || ftruncate(fd, (off_t)(w.n + data))) {
		skip(4, "cannot write a sparse 18 GiB file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		free(w.p);
		return;
	}
	close(fd);
	free(w.p);
	if (!ok(glm_model_load(path, &m, err, sizeof err) == 0, "full-size layout binds (%.2f GiB file)",
	        (double)data / (1u << 30))) {
		diag("  %s", err);
		skip(3, "did not bind");
		unlink(path);
		return;
	}
	unsigned n_f32 = 0;
	double params = 0;
	for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
		const struct glm_tensor *t = &m->gguf->tensors[i];
		n_f32 += t->type == GGML_TYPE_F32;
		params += (double)t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
	}
	ok(m->gguf->n_tensors == 844 && n_f32 == 281 && m->hp.n_layer == 47 && m->hp.n_vocab == V,
	   "full size: 844 tensors, 281 F32, 47 layers");
	ok(fabs(params / 1e9 - 29.94) < 0.005, "full size: %.3f B parameters", params / 1e9);
	uint64_t bpt = glm_model_bytes_per_token(m);
	if (!ok(fabs((double)bpt / 1e9 - 2.387) < 0.0005, "full size: %.4f GB read per decoded token", bpt / 1e9))
		diag("  want 2.387 GB (peer-bench-h200.md)");
	glm_model_free(m);
	unlink(path);
}

int main(void)
{
	static const char *const tiny[] = {"tiny-f32", "tiny-bf16", "tiny-q8_0", "tiny-q4_0"};
	static const char *const mla[] = {"mla20-q4_k_m", "mla20-mix"};
	char path[4200], err[512];
	size_t n;
	char *json = slurp(fixture_path("models/index.json"), &n);
	cJSON *index = json ? cJSON_Parse(json) : NULL;

	if (!index)
		bail_out("cannot read %s", fixture_path("models/index.json"));
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s", fixture_path("models/"));
		strncat(path, tiny[i], sizeof path - strlen(path) - 6);
		strcat(path, ".gguf");
		check_fixture(tiny[i], path, cJSON_GetObjectItemCaseSensitive(index, tiny[i]));
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s", shared_path("models/"));
		strncat(path, mla[i], sizeof path - strlen(path) - 6);
		strcat(path, ".gguf");
		if (!file_readable(path)) {
			skip(9, "%s absent (GLMCHAT_SHARED not beside the checkout)", path);
			continue;
		}
		check_fixture(mla[i], path, cJSON_GetObjectItemCaseSensitive(index, mla[i]));
	}

	struct glm_model *m = NULL;
	ok(glm_model_load("/nonexistent/m.gguf", &m, err, sizeof err) && !m &&
	   strstr(err, "/nonexistent/m.gguf"), "load: nonexistent file named");

	base_buf = slurp(fixture_path("models/tiny-q8_0.gguf"), &n);
	if (!base_buf || gguf_parse(base_buf, n, "tiny-q8_0.gguf", &base_file, err, sizeof err))
		bail_out("cannot parse tiny-q8_0.gguf");
	check_modified();
	check_fused();
	check_fullsize();
	gguf_close(base_file);
	free(base_buf);
	free(out.p);
	cJSON_Delete(index);
	free(json);
	return done_testing();
}
