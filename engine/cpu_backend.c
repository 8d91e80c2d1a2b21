/* The CPU backend: the vtable, the latent KV cache and the scratch the
 * forward pass (cpu_forward.c) works in. It reads the weights straight
 * from the model file's mapping; the only copies are f32 versions of the
 * few small 1-D tensors a file might store in another type. */
#include "config.h"
#include "engine/cpu_internal.h"
#include "engine/quant.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_HEADS 128
#define MAX_KV_ROW 1024

static const char *model_path(const struct glm_model *m)
{
	return m->gguf && m->gguf->path ? m->gguf->path : "model";
}

/* ---- the latent cache ---- */

void cpu_kv_store(const struct cpu_kv *kv, int layer, int64_t pos, const float *row)
{
	uint8_t *dst = kv->data + (size_t)layer * kv->layer_bytes + (size_t)pos * kv->row_bytes;
	uint16_t *d16 = (uint16_t *)dst;
	float tmp[MAX_KV_ROW];

	switch (kv->type) {
	case GLM_KV_F16:
		for (int i = 0; i < kv->row_vals; i++)
			d16[i] = glm_f32_to_f16(row[i]);
		break;
	case GLM_KV_BF16:
		for (int i = 0; i < kv->row_vals; i++)
			d16[i] = glm_f32_to_bf16(row[i]);
		break;
	case GLM_KV_Q8_0:
		memcpy(tmp, row, (size_t)kv->row_vals * sizeof *tmp);
		memset(tmp + kv->row_vals, 0, (size_t)(kv->row_pad - kv->row_vals) * sizeof *tmp);
		quant_quantize_row_q8_0(tmp, dst, kv->row_pad);
		break;
	default:
		memcpy(dst, row, (size_t)kv->row_vals * sizeof *row);
		break;
	}
}

const float *cpu_kv_load(const struct cpu_kv *kv, int layer, int64_t pos, float *buf)
{
	const uint8_t *src = kv->data + (size_t)layer * kv->layer_bytes + (size_t)pos * kv->row_bytes;
	const uint16_t *s16 = (const uint16_t *)src;

	switch (kv->type) {
	case GLM_KV_F16:
		for (int i = 0; i < kv->row_vals; i++)
			buf[i] = glm_f16_to_f32(s16[i]);
		return buf;
	case GLM_KV_BF16:
		for (int i = 0; i < kv->row_vals; i++)
			buf[i] = glm_bf16_to_f32(s16[i]);
		return buf;
	case GLM_KV_Q8_0:
		quant_dequantize_row(GGML_TYPE_Q8_0, src, buf, kv->row_pad);
		return buf;
	default:
		return (const float *)src;
	}
}

static size_t kv_row_bytes(enum glm_kv_type t, int row_vals, int row_pad)
{
	switch (t) {
	case GLM_KV_F16:
	case GLM_KV_BF16:
		return (size_t)row_pad * 2;
	case GLM_KV_Q8_0:
		return (size_t)row_pad / 32 * 34;
	default:
		return (size_t)row_pad * 4;
	}
	(void)row_vals;
}

/* Memory we may still take: MemAvailable, else free pages. */
static int64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kb;

	if (f) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) {
				fclose(f);
				return (int64_t)kb * 1024;
			}
		fclose(f);
	}
	return (int64_t)sysconf(_SC_AVPHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

static int64_t mem_total(void)
{
	return (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

int64_t glm_cpu_mem_available(void)
{
	return mem_available();
}

/* ---- checking the model against what the forward pass indexes ---- */

static int check_tensor(const struct glm_tensor *t, const char *what, int l,
                        int64_t ne0, int64_t ne1, int64_t ne2, const char *path, char *err, size_t errlen)
{
	const struct ggml_type_traits *tr;

	if (!t) {
		snprintf(err, errlen, "%s: layer %d has no %s tensor", path, l, what);
		return -1;
	}
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != ne2 || t->ne[3] != 1) {
		snprintf(err, errlen, "%s: %s has shape [%" PRId64 ", %" PRId64 ", %" PRId64 "], expected [%"
		         PRId64 ", %" PRId64 ", %" PRId64 "]", path, t->name ? t->name : what,
		         t->ne[0], t->ne[1], t->ne[2], ne0, ne1, ne2);
		return -1;
	}
	tr = ggml_type_traits_get(t->type);
	if (!tr || !quant_supported(t->type) || ne0 % tr->block_elems) {
		snprintf(err, errlen, "%s: %s has type %s, which the CPU backend cannot compute with",
		         path, t->name ? t->name : what, ggml_type_name(t->type));
		return -1;
	}
	return 0;
}

static int check_model(const struct glm_model *m, int64_t *max_in, int64_t *max_ff, char *err, size_t errlen)
{
	const struct glm_hparams *hp = &m->hp;
	const char *path = model_path(m);
	const int64_t D = hp->n_embd, H = hp->n_head, R = hp->kv_lora_rank, Dr = hp->n_rot;
	const int64_t Dn = hp->n_embd_head_qk_nope, Dk = hp->n_embd_head_k, Dv = hp->n_embd_head_v;
	const int64_t Rq = hp->q_lora_rank, E = hp->n_expert, V = hp->n_vocab;
	int64_t mi = 0, mf = 0;

#define CHECK(t, what, l, a, b, c) do { \
	if (check_tensor(t, what, l, a, b, c, path, err, errlen)) return -1; \
	if ((t)->ne[0] > mi) mi = (t)->ne[0]; \
} while (0)

	if (H < 1 || H > MAX_HEADS || Dr % 2 || Dn + Dr != Dk || R + Dr > MAX_KV_ROW - 31 ||
	    hp->n_layer < 1 || hp->n_expert > 256 || hp->n_expert_used > hp->n_expert || D < 1 || V < 1) {
		snprintf(err, errlen, "%s: unsupported geometry (heads %" PRId64 ", rope %" PRId64 ", nope %" PRId64
		         ", key %" PRId64 ", latent %" PRId64 ", experts %" PRId64 ")", path, H, Dr, Dn, Dk, R, E);
		return -1;
	}
	CHECK(m->token_embd, "token_embd", -1, D, V, 1);
	CHECK(m->output, "output", -1, D, V, 1);
	CHECK(m->output_norm, "output_norm", -1, D, 1, 1);
	for (uint32_t i = 0; i < hp->n_layer; i++) {
		const struct glm_layer *L = &m->layers[i];
		int l = (int)i;

		CHECK(L->attn_norm, "attn_norm", l, D, 1, 1);
		CHECK(L->attn_q_a, "attn_q_a", l, D, Rq, 1);
		CHECK(L->attn_q_a_norm, "attn_q_a_norm", l, Rq, 1, 1);
		CHECK(L->attn_q_b, "attn_q_b", l, Rq, H * Dk, 1);
		CHECK(L->attn_kv_a_mqa, "attn_kv_a_mqa", l, D, R + Dr, 1);
		CHECK(L->attn_kv_a_norm, "attn_kv_a_norm", l, R, 1, 1);
		CHECK(L->attn_k_b, "attn_k_b", l, Dn, R, H);
		CHECK(L->attn_v_b, "attn_v_b", l, R, Dv, H);
		CHECK(L->attn_output, "attn_output", l, H * Dv, D, 1);
		CHECK(L->ffn_norm, "ffn_norm", l, D, 1, 1);
		if (!L->is_moe) {
			int64_t F = L->ffn_gate ? L->ffn_gate->ne[1] : 0;

			CHECK(L->ffn_gate, "ffn_gate", l, D, F, 1);
			CHECK(L->ffn_up, "ffn_up", l, D, F, 1);
			CHECK(L->ffn_down, "ffn_down", l, F, D, 1);
			if (F > mf)
				mf = F;
			continue;
		}
		{
			int64_t Fe = L->ffn_gate_exps ? L->ffn_gate_exps->ne[1] : 0;

			CHECK(L->ffn_gate_inp, "ffn_gate_inp", l, D, E, 1);
			if (L->exp_probs_b)
				CHECK(L->exp_probs_b, "exp_probs_b", l, E, 1, 1);
			CHECK(L->ffn_gate_exps, "ffn_gate_exps", l, D, Fe, E);
			CHECK(L->ffn_up_exps, "ffn_up_exps", l, D, Fe, E);
			CHECK(L->ffn_down_exps, "ffn_down_exps", l, Fe, D, E);
			if (Fe > mf)
				mf = Fe;
		}
		if (L->ffn_gate_shexp) {
			int64_t Fs = L->ffn_gate_shexp->ne[1];

			CHECK(L->ffn_gate_shexp, "ffn_gate_shexp", l, D, Fs, 1);
			CHECK(L->ffn_up_shexp, "ffn_up_shexp", l, D, Fs, 1);
			CHECK(L->ffn_down_shexp, "ffn_down_shexp", l, Fs, D, 1);
			if (Fs > mf)
				mf = Fs;
		}
	}
#undef CHECK
	*max_in = mi;
	*max_ff = mf;
	return 0;
}

/* ---- f32 views of the small vectors ---- */

static const float *vec_f32(struct cpu_backend *b, const struct glm_tensor *t, int *fail)
{
	float *copy;

	if (!t)
		return NULL;
	if (t->type == GGML_TYPE_F32)
		return t->data;
	copy = malloc((size_t)t->ne[0] * sizeof *copy);
	if (!copy) {
		*fail = 1;
		return NULL;
	}
	quant_dequantize_row(t->type, t->data, copy, t->ne[0]);
	b->vec_copies[b->n_vec_copies++] = copy;
	return copy;
}

static int bind_vectors(struct cpu_backend *b)
{
	const struct glm_model *m = b->base.model;
	int fail = 0;

	b->lv = calloc(m->hp.n_layer, sizeof *b->lv);
	b->vec_copies = calloc((size_t)m->hp.n_layer * 5 + 1, sizeof *b->vec_copies);
	if (!b->lv || !b->vec_copies)
		return -1;
	for (uint32_t l = 0; l < m->hp.n_layer; l++) {
		const struct glm_layer *L = &m->layers[l];
		struct cpu_layer_vecs *v = &b->lv[l];

		v->attn_norm = vec_f32(b, L->attn_norm, &fail);
		v->q_a_norm = vec_f32(b, L->attn_q_a_norm, &fail);
		v->kv_a_norm = vec_f32(b, L->attn_kv_a_norm, &fail);
		v->ffn_norm = vec_f32(b, L->ffn_norm, &fail);
		v->exp_probs_b = L->is_moe ? vec_f32(b, L->exp_probs_b, &fail) : NULL;
	}
	b->output_norm = vec_f32(b, m->output_norm, &fail);
	return fail ? -1 : 0;
}

/* ---- scratch ---- */

static float *take(uint8_t **p, size_t n)
{
	float *r = (float *)*p;
	*p += (n * sizeof(float) + 63) & ~(size_t)63;
	return r;
}

/* Lay out (or, with base NULL, measure) the activations for max_batch tokens. */
static size_t layout_acts(struct cpu_backend *b, uint8_t *base, int64_t max_ff)
{
	const struct glm_hparams *hp = &b->base.model->hp;
	const size_t n = (size_t)b->base.cfg.max_batch;
	const size_t D = hp->n_embd, H = hp->n_head, R = hp->kv_lora_rank, Dr = hp->n_rot;
	const size_t K = hp->n_expert_used ? hp->n_expert_used : 1, E = hp->n_expert ? hp->n_expert : 1;
	const size_t Fe = hp->n_ff_exp ? hp->n_ff_exp : 1, F = (size_t)max_ff;
	struct cpu_acts *a = &b->a;
	uint8_t *p = base ? base : (uint8_t *)64;   /* measuring: offsets only */
	uint8_t *start = p;

	a->max_parts = 8 * b->n_threads;
	a->x = take(&p, n * D);
	a->h = take(&p, n * D);
	a->cq = take(&p, n * hp->q_lora_rank);
	a->q = take(&p, n * H * hp->n_embd_head_k);
	a->ckv = take(&p, n * (R + Dr));
	a->qfull = take(&p, n * H * (R + Dr));
	a->olat = take(&p, n * H * R);
	a->o = take(&p, n * H * hp->n_embd_head_v);
	a->y = take(&p, n * D);
	a->ff_gate = take(&p, n * F);
	a->ff_up = take(&p, n * F);
	a->rope_cos = take(&p, n * (Dr / 2 + 1));
	a->rope_sin = take(&p, n * (Dr / 2 + 1));
	a->router = take(&p, n * E);
	a->sel_expert = (int32_t *)take(&p, n * K);
	a->sel_weight = take(&p, n * K);
	a->slot_token = (int32_t *)take(&p, n * K);
	a->slot_of = (int32_t *)take(&p, n * K);
	a->expert_start = (int64_t *)take(&p, 2 * (E + 1));
	a->ex_x = take(&p, n * K * D);
	a->ex_gate = take(&p, n * K * Fe);
	a->ex_up = take(&p, n * K * Fe);
	a->ex_out = take(&p, n * K * D);
	a->sh_out = take(&p, n * D);
	a->part = take(&p, (size_t)a->max_parts * H * (R + 2));
	if (!base)
		memset(a, 0, sizeof *a);
	return (size_t)(p - start);
}

/* ---- the vtable ---- */

static void cpu_memory(struct glm_backend *gb, int64_t *used, int64_t *total)
{
	struct cpu_backend *b = (struct cpu_backend *)gb;
	const struct gguf_file *f = gb->model->gguf;

	/* the weights count too: they are mapped, and read on every token */
	*used = (int64_t)b->kv.bytes + b->scratch_bytes + (f ? (int64_t)f->size : 0);
	*total = mem_total();
}

static void cpu_free(struct glm_backend *gb)
{
	struct cpu_backend *b = (struct cpu_backend *)gb;

	if (!b)
		return;
	glm_threadpool_free(b->pool);
	if (b->kv.data)
		munmap(b->kv.data, b->kv.bytes);
	if (b->ts) {
		for (int i = 0; i < b->n_threads; i++) {
			free(b->ts[i].rows);
			free(b->ts[i].kvrow);
		}
		free(b->ts);
	}
	free(b->a.x);   /* the start of the one activation block */
	free(b->xq);
	for (int i = 0; i < b->n_vec_copies; i++)
		free(b->vec_copies[i]);
	free(b->vec_copies);
	free(b->lv);
	free(b);
}

static const struct glm_backend_ops cpu_ops = {
	.name = "cpu",
	.forward = cpu_forward,
	.memory = cpu_memory,
	.free = cpu_free,
};

int glm_backend_cpu_create(const struct glm_model *m, const struct glm_backend_config *cfg,
                           struct glm_backend **out, char *err, size_t errlen)
{
	const struct glm_hparams *hp = &m->hp;
	const char *path = model_path(m);
	struct cpu_backend *b;
	int64_t max_in, max_ff, avail;
	size_t acts_bytes, ts_bytes;
	uint8_t *block;
	double need_mib;

	*out = NULL;
	if (check_model(m, &max_in, &max_ff, err, errlen))
		return -1;
	if (cfg->n_ctx < 1 || cfg->max_batch < 1) {
		snprintf(err, errlen, "%s: context size must be at least 1 token", path);
		return -1;
	}
	b = calloc(1, sizeof *b);
	if (!b)
		goto oom;
	b->base.ops = &cpu_ops;
	b->base.model = m;
	b->base.cfg = *cfg;
	if (b->base.cfg.kv_type == GLM_KV_DEFAULT)
		b->base.cfg.kv_type = GLM_KV_F32;
	b->base.cfg.n_threads = cfg->n_threads > 0 ? cfg->n_threads : glm_cpu_count();
	b->n_threads = b->base.cfg.n_threads;
	b->max_in = (int)max_in;
	b->q8 = cfg->q8_activations;

	b->kv.type = b->base.cfg.kv_type;
	b->kv.n_ctx = cfg->n_ctx;
	b->kv.row_vals = (int)(hp->kv_lora_rank + hp->n_rot);
	b->kv.row_pad = (b->kv.row_vals + 31) / 32 * 32;
	b->kv.row_bytes = kv_row_bytes(b->kv.type, b->kv.row_vals, b->kv.row_pad);
	b->kv.layer_bytes = (size_t)cfg->n_ctx * b->kv.row_bytes;
	b->kv.bytes = b->kv.layer_bytes * hp->n_layer;

	acts_bytes = layout_acts(b, NULL, max_ff);
	ts_bytes = ((size_t)CPU_MM_ROWS * max_in + (size_t)CPU_ATTN_KEYS * b->kv.row_pad) * sizeof(float) * b->n_threads;
	b->scratch_bytes = (int64_t)(acts_bytes + ts_bytes);

	/* The check the user sees: the cache is committed as it fills, but a
	 * context that can never fit must fail now, not at token 100000. */
	avail = mem_available();
	need_mib = ((double)b->kv.bytes + (double)b->scratch_bytes) / (1 << 20);
	if ((double)b->kv.bytes + (double)b->scratch_bytes > (double)avail) {
		/* the cache grows linearly with the context; scratch does not */
		double per_token = (double)b->kv.row_bytes * hp->n_layer;
		double room = (double)avail - (double)b->scratch_bytes;
		int64_t fits = room > per_token ? (int64_t)(room / per_token) : 0;

		snprintf(err, errlen, "%s: a context of %" PRId64 " tokens needs %.0f MiB (%s latent cache and "
		         "scratch) but only %.0f MiB of memory is available; the largest context that fits is -c %" PRId64,
		         path, cfg->n_ctx, need_mib, glm_kv_type_name(b->kv.type), (double)avail / (1 << 20), fits);
		free(b);
		return -1;
	}
	b->kv.data = mmap(NULL, b->kv.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->kv.data == MAP_FAILED) {
		b->kv.data = NULL;
		snprintf(err, errlen, "%s: cannot reserve %.0f MiB for the latent cache of %" PRId64 " tokens; use a smaller -c",
		         path, (double)b->kv.bytes / (1 << 20), cfg->n_ctx);
		cpu_free(&b->base);
		return -1;
	}
	block = aligned_alloc(64, (acts_bytes + 63) & ~(size_t)63);
	if (!block)
		goto oom_free;
	layout_acts(b, block, max_ff);
	b->ts = calloc((size_t)b->n_threads, sizeof *b->ts);
	if (!b->ts)
		goto oom_free;
	for (int i = 0; i < b->n_threads; i++) {
		b->ts[i].rows = malloc((size_t)CPU_MM_ROWS * max_in * sizeof(float));
		b->ts[i].kvrow = malloc((size_t)CPU_ATTN_KEYS * b->kv.row_pad * sizeof(float));
		if (!b->ts[i].rows || !b->ts[i].kvrow)
			goto oom_free;
	}
	if (bind_vectors(b))
		goto oom_free;
	if (glm_threadpool_create(b->n_threads, &b->pool)) {
		snprintf(err, errlen, "%s: cannot start %d threads", path, b->n_threads);
		cpu_free(&b->base);
		return -1;
	}
	*out = &b->base;
	return 0;

oom_free:
	cpu_free(&b->base);
oom:
	snprintf(err, errlen, "%s: out of memory creating the CPU backend", path);
	return -1;
}
