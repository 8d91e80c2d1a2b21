/* Binding a parsed GGUF file to GLM-4.7-Flash (arch "deepseek2", MLA
 * attention in the absorbed k_b/v_b form, leading dense layers then MoE).
 * Every hyper-parameter is range-checked before anyone sizes memory with it,
 * and every tensor the forward pass reads is checked for exact shape and a
 * type the engine can compute with; a tensor nobody reads is an error too
 * (it means the file is not the layout we think it is). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"

#define ARCH "deepseek2"

/* Upper bounds that keep every product of hyper-parameters far from
 * overflow while leaving room for much larger models than this one. */
#define MAX_DIM     (1u << 20)
#define MAX_LAYERS  4096u
#define MAX_EXPERTS 4096u

struct binder {
	struct gguf_file *f;
	struct glm_model *m;
	bool *used;          /* per tensor of f: claimed by the binding */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct binder *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->err || !b->errlen)
		return -1;
	n = snprintf(b->err, b->errlen, "%s: ", b->f->path);
	if (n >= 0 && (size_t)n < b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err + n, b->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- metadata ---- */

static int key_u32(struct binder *b, const char *suffix, bool required, uint32_t dflt,
                   uint32_t lo, uint32_t hi, uint32_t *out)
{
	char key[128];
	int rc;

	snprintf(key, sizeof key, ARCH ".%s", suffix);
	rc = gguf_get_u32(b->f, key, out);
	if (rc == -1) {
		if (required)
			return fail(b, "missing key %s", key);
		*out = dflt;
		return 0;
	}
	if (rc == -2)
		return fail(b, "key %s: not an unsigned 32-bit integer", key);
	if (*out < lo || *out > hi)
		return fail(b, "key %s: %u is out of range [%u, %u]", key, *out, lo, hi);
	return 0;
}

static int key_f32(struct binder *b, const char *suffix, bool required, float dflt,
                   float lo, float hi, float *out)
{
	char key[128];
	int rc;

	snprintf(key, sizeof key, ARCH ".%s", suffix);
	rc = gguf_get_f32(b->f, key, out);
	if (rc == -1) {
		if (required)
			return fail(b, "missing key %s", key);
		*out = dflt;
		return 0;
	}
	if (rc == -2)
		return fail(b, "key %s: not a float", key);
	if (!(*out >= lo && *out <= hi))   /* also rejects NaN */
		return fail(b, "key %s: %g is out of range [%g, %g]", key, *out, lo, hi);
	return 0;
}

static int read_arch(struct binder *b)
{
	const struct gguf_kv *kv = gguf_find(b->f, "general.architecture");

	if (!kv)
		return fail(b, "missing key general.architecture");
	if (kv->type != GGUF_TYPE_STRING)
		return fail(b, "key general.architecture: not a string");
	if (kv->v.str.len != strlen(ARCH) || memcmp(kv->v.str.ptr, ARCH, strlen(ARCH))) {
		int n = kv->v.str.len > 64 ? 64 : (int)kv->v.str.len;
		return fail(b, "unsupported architecture %.*s (glmchat runs GLM-4.7-Flash, arch " ARCH ")",
		            n, kv->v.str.ptr);
	}
	return 0;
}

static int read_hparams(struct binder *b)
{
	struct glm_hparams *hp = &b->m->hp;
	uint32_t nextn, key_mla, val_mla, kl, vl, gating, groups, ctx;
	bool has_gating;

	if (read_arch(b))
		return -1;
	if (key_u32(b, "block_count", true, 0, 1, MAX_LAYERS, &hp->n_layer_file) ||
	    key_u32(b, "nextn_predict_layers", false, 0, 0, MAX_LAYERS, &nextn) ||
	    key_u32(b, "context_length", true, 0, 1, UINT32_MAX, &ctx) ||
	    key_u32(b, "embedding_length", true, 0, 1, MAX_DIM, &hp->n_embd) ||
	    key_u32(b, "leading_dense_block_count", true, 0, 0, MAX_LAYERS, &hp->n_leading_dense) ||
	    key_u32(b, "attention.head_count", true, 0, 1, 1024, &hp->n_head) ||
	    key_u32(b, "attention.q_lora_rank", true, 0, 1, MAX_DIM, &hp->q_lora_rank) ||
	    key_u32(b, "attention.kv_lora_rank", true, 0, 1, MAX_DIM, &hp->kv_lora_rank) ||
	    key_u32(b, "attention.key_length_mla", true, 0, 1, MAX_DIM, &key_mla) ||
	    key_u32(b, "attention.value_length_mla", true, 0, 1, MAX_DIM, &val_mla) ||
	    key_u32(b, "rope.dimension_count", true, 0, 2, MAX_DIM, &hp->n_rot) ||
	    key_u32(b, "expert_count", true, 0, 1, MAX_EXPERTS, &hp->n_expert) ||
	    key_u32(b, "expert_used_count", true, 0, 1, MAX_EXPERTS, &hp->n_expert_used) ||
	    key_u32(b, "expert_shared_count", false, 0, 0, 64, &hp->n_expert_shared) ||
	    key_u32(b, "expert_feed_forward_length", true, 0, 1, MAX_DIM, &hp->n_ff_exp) ||
	    key_u32(b, "expert_gating_func", false, 0, 0, UINT32_MAX, &gating) ||
	    key_u32(b, "expert_group_count", false, 1, 1, MAX_EXPERTS, &groups) ||
	    key_u32(b, "attention.key_length", false, 0, 0, UINT32_MAX, &kl) ||
	    key_u32(b, "attention.value_length", false, 0, 0, UINT32_MAX, &vl) ||
	    key_f32(b, "attention.layer_norm_rms_epsilon", true, 0, 0, 1.0f, &hp->rms_eps) ||
	    key_f32(b, "rope.freq_base", true, 0, 1.0f, 1e12f, &hp->rope_freq_base) ||
	    key_f32(b, "expert_weights_scale", false, 1.0f, 1e-6f, 1e6f, &hp->expert_weights_scale))
		return -1;
	hp->n_ctx_train = ctx;

	if (nextn >= hp->n_layer_file)
		return fail(b, "key " ARCH ".nextn_predict_layers: %u leaves no layers of the %u", nextn,
		            hp->n_layer_file);
	hp->n_layer = hp->n_layer_file - nextn;
	if (hp->n_leading_dense > hp->n_layer)
		return fail(b, "key " ARCH ".leading_dense_block_count: %u exceeds the %u layers",
		            hp->n_leading_dense, hp->n_layer);
	if (hp->n_leading_dense &&
	    key_u32(b, "feed_forward_length", true, 0, 1, MAX_DIM, &hp->n_ff))
		return -1;
	if (hp->n_expert_used > hp->n_expert)
		return fail(b, "key " ARCH ".expert_used_count: %u exceeds expert_count %u",
		            hp->n_expert_used, hp->n_expert);
	if (groups != 1)
		return fail(b, "key " ARCH ".expert_group_count: %u (group-limited routing is not supported)",
		            groups);

	/* MLA head geometry: q/k heads are nope + rope wide, the cache row is
	 * the latent plus the shared roped key. */
	if (hp->n_rot % 2 || hp->n_rot >= key_mla)
		return fail(b, "key " ARCH ".rope.dimension_count: %u does not fit key_length_mla %u",
		            hp->n_rot, key_mla);
	hp->n_embd_head_k = key_mla;
	hp->n_embd_head_qk_nope = key_mla - hp->n_rot;
	hp->n_embd_head_v = val_mla;
	if (kl && kl != hp->kv_lora_rank + hp->n_rot)
		return fail(b, "key " ARCH ".attention.key_length: %u, expected kv_lora_rank + rope = %u",
		            kl, hp->kv_lora_rank + hp->n_rot);
	if (vl && vl != hp->kv_lora_rank)
		return fail(b, "key " ARCH ".attention.value_length: %u, expected kv_lora_rank = %u",
		            vl, hp->kv_lora_rank);

	/* Absent means sigmoid: GLM-4.7-Flash is a sigmoid router and early
	 * conversions did not write the key (spec §6.1). */
	has_gating = gguf_find(b->f, ARCH ".expert_gating_func") != NULL;
	if (!has_gating || gating == GLM_GATING_SIGMOID)
		hp->gating = GLM_GATING_SIGMOID;
	else if (gating == GLM_GATING_SOFTMAX)
		hp->gating = GLM_GATING_SOFTMAX;
	else
		return fail(b, "key " ARCH ".expert_gating_func: %u is not 1 (softmax) or 2 (sigmoid)", gating);

	hp->expert_weights_norm = false;
	if (gguf_get_bool(b->f, ARCH ".expert_weights_norm", &hp->expert_weights_norm) == -2)
		return fail(b, "key " ARCH ".expert_weights_norm: not a bool");
	hp->rms_eps_inner = 1e-6f;   /* the reference's q_a/kv_a norms (spec §6.5) */

	const struct gguf_kv *rs = gguf_find(b->f, ARCH ".rope.scaling.type");
	if (rs && !(rs->type == GGUF_TYPE_STRING && rs->v.str.len == 4 && !memcmp(rs->v.str.ptr, "none", 4)))
		return fail(b, "key " ARCH ".rope.scaling.type: rope scaling is not supported");
	return 0;
}

/* ---- tensors ---- */

static void shape_str(char *buf, size_t n, const int64_t *ne, int nd)
{
	size_t k = 0;

	k += snprintf(buf + k, n - k, "[");
	for (int i = 0; i < nd && k < n; i++)
		k += snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)ne[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

static int dims_of(const int64_t *ne)
{
	int nd = 4;

	while (nd > 1 && ne[nd - 1] == 1)
		nd--;
	return nd;
}

/* Bind tensor `name` with the expected shape (trailing 1s implied) and,
 * when f32_only, type F32 (norms, router, bias: the backends read them as
 * plain floats). optional: NULL when absent instead of an error. */
static int bind_tensor(struct binder *b, const struct glm_tensor **out, const char *name,
                       bool f32_only, bool optional, int64_t n0, int64_t n1, int64_t n2)
{
	const struct glm_tensor *t = gguf_find_tensor(b->f, name);
	const int64_t want[4] = {n0, n1 ? n1 : 1, n2 ? n2 : 1, 1};
	const struct ggml_type_traits *tr;

	*out = NULL;
	if (!t) {
		if (optional)
			return 0;
		return fail(b, "missing tensor %s", name);
	}
	for (int i = 0; i < 4; i++)
		if (t->ne[i] != want[i]) {
			char got[96], exp[96];
			shape_str(got, sizeof got, t->ne, dims_of(t->ne));
			shape_str(exp, sizeof exp, want, dims_of(want));
			return fail(b, "tensor %s: wrong shape %s, expected %s", name, got, exp);
		}
	tr = ggml_type_traits_get(t->type);
	if (!tr || !tr->supported)
		return fail(b, "%s: unsupported tensor type %s", name, ggml_type_name(t->type));
	if (t->ne[0] % tr->block_elems)
		return fail(b, "%s: row of %lld values is not a whole number of %s blocks", name,
		            (long long)t->ne[0], tr->name);
	if (f32_only && t->type != GGML_TYPE_F32)
		return fail(b, "%s: type %s, expected F32", name, tr->name);
	b->used[t - b->f->tensors] = true;
	*out = t;
	return 0;
}

static int bind_layer_tensor(struct binder *b, const struct glm_tensor **out, unsigned l,
                             const char *what, bool f32_only, bool optional,
                             int64_t n0, int64_t n1, int64_t n2)
{
	char name[96];

	snprintf(name, sizeof name, "blk.%u.%s", l, what);
	return bind_tensor(b, out, name, f32_only, optional, n0, n1, n2);
}

/* The fused gate_up expert tensor holds, per expert, the gate rows then the
 * up rows: two views with the same row and expert strides. */
static void split_fused(struct glm_layer *L, const struct glm_tensor *fused, int64_t n_ff_exp)
{
	struct glm_tensor *g = &L->fused_gate_view, *u = &L->fused_up_view;

	*g = *fused;
	g->ne[1] = n_ff_exp;
	/* a view spans from its first byte to the end of its last expert's half */
	g->nbytes = (size_t)(fused->ne[2] - 1) * fused->nb[2] + (size_t)n_ff_exp * fused->nb[1];
	*u = *g;
	u->data = (const char *)fused->data + (size_t)n_ff_exp * fused->nb[1];
	L->ffn_gate_exps = g;
	L->ffn_up_exps = u;
}

static int bind_layer(struct binder *b, unsigned l)
{
	const struct glm_hparams *hp = &b->m->hp;
	struct glm_layer *L = &b->m->layers[l];
	const int64_t E = hp->n_embd, H = hp->n_head, kv = hp->kv_lora_rank;
	const int64_t ff_sh = (int64_t)hp->n_ff_exp * hp->n_expert_shared;

	if (bind_layer_tensor(b, &L->attn_norm, l, "attn_norm.weight", true, false, E, 0, 0) ||
	    bind_layer_tensor(b, &L->attn_q_a, l, "attn_q_a.weight", false, false, E, hp->q_lora_rank, 0) ||
	    bind_layer_tensor(b, &L->attn_q_a_norm, l, "attn_q_a_norm.weight", true, false, hp->q_lora_rank, 0, 0) ||
	    bind_layer_tensor(b, &L->attn_q_b, l, "attn_q_b.weight", false, false,
	                      hp->q_lora_rank, H * hp->n_embd_head_k, 0) ||
	    bind_layer_tensor(b, &L->attn_kv_a_mqa, l, "attn_kv_a_mqa.weight", false, false,
	                      E, kv + hp->n_rot, 0) ||
	    bind_layer_tensor(b, &L->attn_kv_a_norm, l, "attn_kv_a_norm.weight", true, false, kv, 0, 0) ||
	    bind_layer_tensor(b, &L->attn_k_b, l, "attn_k_b.weight", false, false,
	                      hp->n_embd_head_qk_nope, kv, H) ||
	    bind_layer_tensor(b, &L->attn_v_b, l, "attn_v_b.weight", false, false,
	                      kv, hp->n_embd_head_v, H) ||
	    bind_layer_tensor(b, &L->attn_output, l, "attn_output.weight", false, false,
	                      H * hp->n_embd_head_v, E, 0) ||
	    bind_layer_tensor(b, &L->ffn_norm, l, "ffn_norm.weight", true, false, E, 0, 0))
		return -1;

	L->is_moe = l >= hp->n_leading_dense;
	if (!L->is_moe)
		return bind_layer_tensor(b, &L->ffn_gate, l, "ffn_gate.weight", false, false, E, hp->n_ff, 0) ||
		       bind_layer_tensor(b, &L->ffn_up, l, "ffn_up.weight", false, false, E, hp->n_ff, 0) ||
		       bind_layer_tensor(b, &L->ffn_down, l, "ffn_down.weight", false, false, hp->n_ff, E, 0)
		       ? -1 : 0;

	const int64_t X = hp->n_expert, F = hp->n_ff_exp;
	const struct glm_tensor *fused;
	if (bind_layer_tensor(b, &L->ffn_gate_inp, l, "ffn_gate_inp.weight", true, false, E, X, 0) ||
	    bind_layer_tensor(b, &L->exp_probs_b, l, "exp_probs_b.bias", true, false, X, 0, 0) ||
	    bind_layer_tensor(b, &fused, l, "ffn_gate_up_exps.weight", false, true, E, 2 * F, X))
		return -1;
	if (fused)
		split_fused(L, fused, F);
	else if (bind_layer_tensor(b, &L->ffn_gate_exps, l, "ffn_gate_exps.weight", false, false, E, F, X) ||
	         bind_layer_tensor(b, &L->ffn_up_exps, l, "ffn_up_exps.weight", false, false, E, F, X))
		return -1;
	if (bind_layer_tensor(b, &L->ffn_down_exps, l, "ffn_down_exps.weight", false, false, F, E, X))
		return -1;
	if (!hp->n_expert_shared)
		return 0;
	return bind_layer_tensor(b, &L->ffn_gate_shexp, l, "ffn_gate_shexp.weight", false, false, E, ff_sh, 0) ||
	       bind_layer_tensor(b, &L->ffn_up_shexp, l, "ffn_up_shexp.weight", false, false, E, ff_sh, 0) ||
	       bind_layer_tensor(b, &L->ffn_down_shexp, l, "ffn_down_shexp.weight", false, false, ff_sh, E, 0)
	       ? -1 : 0;
}

/* Layers at or past n_layer are next-token-prediction blocks: skipped. */
static bool in_skipped_layer(const struct glm_hparams *hp, const char *name)
{
	char *end;
	unsigned long l;

	if (strncmp(name, "blk.", 4))
		return false;
	l = strtoul(name + 4, &end, 10);
	return end != name + 4 && *end == '.' && l >= hp->n_layer && l < hp->n_layer_file;
}

static int bind_tensors(struct binder *b)
{
	struct glm_model *m = b->m;
	const struct glm_hparams *hp = &m->hp;

	/* the vocabulary size is whatever token_embd says; everything else must agree */
	const struct glm_tensor *te = gguf_find_tensor(b->f, "token_embd.weight");
	if (!te)
		return fail(b, "missing tensor token_embd.weight");
	if (te->ne[1] < 1 || te->ne[1] > INT32_MAX)
		return fail(b, "tensor token_embd.weight: %lld tokens", (long long)te->ne[1]);
	m->hp.n_vocab = (uint32_t)te->ne[1];
	uint32_t vs;
	if (key_u32(b, "vocab_size", false, m->hp.n_vocab, 1, UINT32_MAX, &vs))
		return -1;
	if (vs != m->hp.n_vocab)
		return fail(b, "key " ARCH ".vocab_size: %u, but token_embd.weight has %u rows", vs, m->hp.n_vocab);
	const struct gguf_kv *tok = gguf_find(b->f, "tokenizer.ggml.tokens");
	if (tok && (tok->type != GGUF_TYPE_ARRAY || tok->v.arr.n != m->hp.n_vocab))
		return fail(b, "key tokenizer.ggml.tokens: %llu tokens, but token_embd.weight has %u rows",
		            tok->type == GGUF_TYPE_ARRAY ? (unsigned long long)tok->v.arr.n : 0ULL, m->hp.n_vocab);

	if (bind_tensor(b, &m->token_embd, "token_embd.weight", false, false, hp->n_embd, hp->n_vocab, 0) ||
	    bind_tensor(b, &m->output_norm, "output_norm.weight", true, false, hp->n_embd, 0, 0) ||
	    bind_tensor(b, &m->output, "output.weight", false, true, hp->n_embd, hp->n_vocab, 0))
		return -1;
	if (!m->output)   /* tied embeddings, as llama.cpp falls back */
		m->output = m->token_embd;

	for (unsigned l = 0; l < hp->n_layer; l++)
		if (bind_layer(b, l))
			return -1;
	for (uint64_t i = 0; i < b->f->n_tensors; i++) {
		const char *name = b->f->tensors[i].name;
		if (!b->used[i] && !in_skipped_layer(hp, name))
			return fail(b, "unexpected tensor %s (not part of the " ARCH " layout)", name);
	}
	return 0;
}

static char *model_name(const struct gguf_file *f)
{
	char *name = gguf_get_str(f, "general.name");
	const char *base;

	if (name && *name)
		return name;
	free(name);
	base = strrchr(f->path, '/');
	return strdup(base ? base + 1 : f->path);
}

int glm_model_bind(struct gguf_file *f, struct glm_model **out, char *err, size_t errlen)
{
	struct binder b = {f, NULL, NULL, err, errlen};
	struct glm_model *m;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	m = calloc(1, sizeof *m);
	b.m = m;
	b.used = calloc((size_t)f->n_tensors + 1, sizeof *b.used);
	if (!m || !b.used) {
		fail(&b, "out of memory");
		goto bad;
	}
	if (read_hparams(&b))
		goto bad;
	m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
	if (!m->layers) {
		fail(&b, "out of memory");
		goto bad;
	}
	if (bind_tensors(&b))
		goto bad;
	m->name = model_name(f);
	if (!m->name) {
		fail(&b, "out of memory");
		goto bad;
	}
	free(b.used);
	m->gguf = f;
	*out = m;
	return 0;
bad:
	free(b.used);
	if (m) {
		free(m->layers);
		free(m);
	}
	return -1;
}

int glm_model_load(const char *path, struct glm_model **out, char *err, size_t errlen)
{
	struct gguf_file *f;

	*out = NULL;
	if (gguf_open(path, &f, err, errlen))
		return -1;
	if (glm_model_bind(f, out, err, errlen)) {
		gguf_close(f);
		return -1;
	}
	return 0;
}

void glm_model_free(struct glm_model *m)
{
	if (!m)
		return;
	gguf_close(m->gguf);
	free(m->layers);
	free(m->name);
	free(m);
}

/* ---- decode cost ---- */

static uint64_t nbytes(const struct glm_tensor *t)
{
	return t ? t->nbytes : 0;
}

/* One expert's slab of a stacked expert tensor: its ne[1] rows. */
static uint64_t slab(const struct glm_tensor *t)
{
	return t ? (uint64_t)t->ne[1] * t->nb[1] : 0;
}

uint64_t glm_model_bytes_per_token(const struct glm_model *m)
{
	const struct glm_hparams *hp = &m->hp;
	uint64_t sum = m->token_embd->nb[1] + nbytes(m->output_norm) + nbytes(m->output);

	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct glm_layer *L = &m->layers[l];
		sum += nbytes(L->attn_norm) + nbytes(L->attn_q_a) + nbytes(L->attn_q_a_norm) +
		       nbytes(L->attn_q_b) + nbytes(L->attn_kv_a_mqa) + nbytes(L->attn_kv_a_norm) +
		       nbytes(L->attn_k_b) + nbytes(L->attn_v_b) + nbytes(L->attn_output) +
		       nbytes(L->ffn_norm);
		if (!L->is_moe) {
			sum += nbytes(L->ffn_gate) + nbytes(L->ffn_up) + nbytes(L->ffn_down);
			continue;
		}
		sum += nbytes(L->ffn_gate_inp) + nbytes(L->exp_probs_b);
		sum += (uint64_t)hp->n_expert_used *
		       (slab(L->ffn_gate_exps) + slab(L->ffn_up_exps) + slab(L->ffn_down_exps));
		sum += nbytes(L->ffn_gate_shexp) + nbytes(L->ffn_up_shexp) + nbytes(L->ffn_down_shexp);
	}
	return sum;
}
