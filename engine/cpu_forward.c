/* The forward pass of GLM-4.7-Flash on the CPU, in the absorbed-MLA form
 * of the spec (glm47flash-spec.md §2.5): it reads top to bottom like the
 * math, one function per step. A call evaluates n tokens at positions
 * pos..pos+n-1 together: every matrix is applied to the whole batch at
 * once (cpu_matmul), and the latent cache rows of the batch are written
 * before any token attends, so causality is just "keys up to my position". */
#include "config.h"
#include "engine/cpu_internal.h"
#include "engine/quant.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEADS 128

/* ---- embedding ---- */

static void embed(struct cpu_backend *b, const int32_t *ids, int n)
{
	const struct glm_model *m = b->base.model;
	const int64_t D = m->hp.n_embd;

	for (int t = 0; t < n; t++)
		quant_dequantize_row(m->token_embd->type, glm_tensor_row(m->token_embd, ids[t], 0),
		                     b->a.x + (size_t)t * D, D);
}

/* ---- attention ---- */

struct attn_ctx {
	struct cpu_backend *b;
	int layer, n, parts;          /* parts: tasks per token (keys split across them) */
	int64_t pos;
	float scale;
};

/* One token attending over keys [k0, k1) with an online softmax per head,
 * a block of keys at a time: scores for every head (four heads per pass
 * over a key row), one rescale per block, then the block's rows added into
 * each head's accumulator in one sweep. acc is H rows of kv_lora_rank (+2
 * for the running max and sum when the result is a partial one, to be
 * merged). */
static void attend_keys(const struct attn_ctx *c, int t, int64_t k0, int64_t k1, float *acc,
                        int stride, bool partial, int tid)
{
	struct cpu_backend *b = c->b;
	const struct glm_hparams *hp = &b->base.model->hp;
	const int H = (int)hp->n_head, R = (int)hp->kv_lora_rank, W = R + (int)hp->n_rot;
	const float *q = b->a.qfull + (size_t)t * H * W;
	float mx[MAX_HEADS], sum[MAX_HEADS], s[MAX_HEADS][CPU_ATTN_KEYS], p[CPU_ATTN_KEYS];
	const float *rows[CPU_ATTN_KEYS];

	for (int h = 0; h < H; h++) {
		mx[h] = -INFINITY;
		sum[h] = 0;
		memset(acc + (size_t)h * stride, 0, (size_t)R * sizeof *acc);
	}
	for (int64_t j0 = k0; j0 < k1; j0 += CPU_ATTN_KEYS) {
		int nk = k1 - j0 < CPU_ATTN_KEYS ? (int)(k1 - j0) : CPU_ATTN_KEYS;

		for (int k = 0; k < nk; k++)
			rows[k] = cpu_kv_load(&b->kv, c->layer, j0 + k, b->ts[tid].kvrow + (size_t)k * b->kv.row_pad);
		for (int h = 0; h < H; h += 4) {
			const float *qh[4];
			float out[4];

			for (int i = 0; i < 4; i++)      /* past the last head: repeat it, drop the result */
				qh[i] = q + (size_t)(h + i < H ? h + i : H - 1) * W;
			int k = 0;
			/* two keys per pass: 6 loads per 8 multiply-adds, not 5 per 4 */
			for (; k + 2 <= nk; k += 2) {
				float out2[8];
				cpu_dot4x2(qh, rows[k], rows[k + 1], W, out2);
				for (int i = 0; i < 4 && h + i < H; i++) {
					s[h + i][k] = out2[2 * i] * c->scale;
					s[h + i][k + 1] = out2[2 * i + 1] * c->scale;
				}
			}
			for (; k < nk; k++) {
				cpu_dot4(qh[0], qh[1], qh[2], qh[3], rows[k], W, out);
				for (int i = 0; i < 4 && h + i < H; i++)
					s[h + i][k] = out[i] * c->scale;
			}
		}
		for (int h = 0; h < H; h++) {
			float *a = acc + (size_t)h * stride, bmax = -INFINITY;

			for (int k = 0; k < nk; k++)
				bmax = s[h][k] > bmax ? s[h][k] : bmax;
			if (bmax > mx[h]) {
				float corr = expf(mx[h] - bmax);   /* 0 for the first block */

				if (sum[h] > 0)
					for (int i = 0; i < R; i++)
						a[i] *= corr;
				sum[h] *= corr;
				mx[h] = bmax;
			}
			for (int k = 0; k < nk; k++) {
				p[k] = expf(s[h][k] - mx[h]);
				sum[h] += p[k];
			}
			cpu_acc_rows(a, p, rows, nk, R);
		}
	}
	for (int h = 0; h < H; h++) {
		float *a = acc + (size_t)h * stride;

		if (partial) {
			a[R] = mx[h];
			a[R + 1] = sum[h];
		} else {
			float inv = sum[h] > 0 ? 1.0f / sum[h] : 0.0f;

			for (int i = 0; i < R; i++)
				a[i] *= inv;
		}
	}
}

static void attend_task(void *arg, int64_t task, int tid)
{
	const struct attn_ctx *c = arg;
	struct cpu_backend *b = c->b;
	const struct glm_hparams *hp = &b->base.model->hp;
	const int H = (int)hp->n_head, R = (int)hp->kv_lora_rank;
	const int t = (int)(task / c->parts), part = (int)(task % c->parts);
	const int64_t n_keys = c->pos + t + 1;            /* causal: keys 0..pos+t */
	const int64_t per = (n_keys + c->parts - 1) / c->parts;
	int64_t k0 = part * per, k1 = k0 + per;

	if (k1 > n_keys)
		k1 = n_keys;
	if (k0 > k1)
		k0 = k1;
	if (c->parts == 1)
		attend_keys(c, t, k0, k1, b->a.olat + (size_t)t * H * R, R, false, tid);
	else
		attend_keys(c, t, k0, k1, b->a.part + (size_t)task * H * (R + 2), R + 2, true, tid);
}

/* Combine the partial softmaxes of one token's key ranges. */
static void merge_parts(struct cpu_backend *b, int n, int parts)
{
	const struct glm_hparams *hp = &b->base.model->hp;
	const int H = (int)hp->n_head, R = (int)hp->kv_lora_rank;

	for (int t = 0; t < n; t++)
		for (int h = 0; h < H; h++) {
			float *out = b->a.olat + ((size_t)t * H + h) * R;
			float gmax = -INFINITY, total = 0;

			for (int p = 0; p < parts; p++) {
				const float *a = b->a.part + (((size_t)t * parts + p) * H + h) * (R + 2);
				if (a[R + 1] > 0 && a[R] > gmax)
					gmax = a[R];
			}
			memset(out, 0, (size_t)R * sizeof *out);
			for (int p = 0; p < parts; p++) {
				const float *a = b->a.part + (((size_t)t * parts + p) * H + h) * (R + 2);
				float w;

				if (!(a[R + 1] > 0))
					continue;
				w = expf(a[R] - gmax);
				total += a[R + 1] * w;
				cpu_axpy(out, w, a, R);
			}
			if (total > 0)
				for (int i = 0; i < R; i++)
					out[i] /= total;
		}
}

/* softmax(q·K / sqrt(qk_head)) · V over the latent cache, for every head of
 * every token of the batch: olat[t][h] (kv_lora_rank wide). */
static void attend(struct cpu_backend *b, int layer, int n, int64_t pos)
{
	const struct glm_hparams *hp = &b->base.model->hp;
	struct attn_ctx c = {.b = b, .layer = layer, .n = n, .pos = pos,
	                     .scale = 1.0f / sqrtf((float)hp->n_embd_head_k)};
	int nth = b->n_threads;

	/* Enough tasks to keep every thread busy: one per token for a batch,
	 * the keys split across threads for decode (merged afterwards). */
	c.parts = 1;
	if (nth > 1 && n < 2 * nth) {
		int64_t min_keys = pos + 1;

		c.parts = (4 * nth + n - 1) / n;
		if (c.parts > min_keys / 32)
			c.parts = (int)(min_keys / 32);
		if (c.parts * n > b->a.max_parts)
			c.parts = b->a.max_parts / n;
		if (c.parts < 1)
			c.parts = 1;
	}
	cpu_parallel(b, (int64_t)n * c.parts, (double)n * (pos + n) * hp->n_head * (hp->kv_lora_rank + hp->n_rot),
	             attend_task, &c);
	if (c.parts > 1)
		merge_parts(b, n, c.parts);
}

static void attention(struct cpu_backend *b, int l, int n, int64_t pos)
{
	const struct glm_model *m = b->base.model;
	const struct glm_hparams *hp = &m->hp;
	const struct glm_layer *L = &m->layers[l];
	const struct cpu_layer_vecs *v = &b->lv[l];
	struct cpu_acts *a = &b->a;
	const int64_t D = hp->n_embd, H = hp->n_head, Rq = hp->q_lora_rank, R = hp->kv_lora_rank;
	const int64_t Dr = hp->n_rot, Dn = hp->n_embd_head_qk_nope, Dk = hp->n_embd_head_k;
	const int64_t Dv = hp->n_embd_head_v, W = R + Dr;
	struct cpu_mm jobs[MAX_HEADS];

	/* h = RMSNorm(x); the query and key/value down-projections */
	for (int t = 0; t < n; t++)
		cpu_rmsnorm(a->h + t * D, a->x + t * D, v->attn_norm, (int)D, hp->rms_eps);
	jobs[0] = (struct cpu_mm){L->attn_q_a, 0, a->h, D, a->cq, Rq, 0, Rq, n};
	jobs[1] = (struct cpu_mm){L->attn_kv_a_mqa, 0, a->h, D, a->ckv, W, 0, W, n};
	cpu_matmul(b, jobs, 2);

	/* inner norms (eps 1e-6, the latent only), rope on the shared key,
	 * and the batch's rows into the cache */
	for (int t = 0; t < n; t++) {
		float *ckv = a->ckv + t * W;

		cpu_rmsnorm(a->cq + t * Rq, a->cq + t * Rq, v->q_a_norm, (int)Rq, hp->rms_eps_inner);
		cpu_rmsnorm(ckv, ckv, v->kv_a_norm, (int)R, hp->rms_eps_inner);
		cpu_rope(ckv + R, a->rope_cos + t * (Dr / 2 + 1), a->rope_sin + t * (Dr / 2 + 1), (int)Dr);
		cpu_kv_store(&b->kv, l, pos + t, ckv);
	}

	/* q = q_b · cq; per head [nope | rope] */
	jobs[0] = (struct cpu_mm){L->attn_q_b, 0, a->cq, Rq, a->q, H * Dk, 0, H * Dk, n};
	cpu_matmul(b, jobs, 1);

	/* qfull[t][h] = [attn_k_b[h] · q_nope | RoPE(q_rope)]: the query in cache-row space */
	for (int t = 0; t < n; t++)
		for (int64_t h = 0; h < H; h++) {
			float *dst = a->qfull + (t * H + h) * W + R;

			memcpy(dst, a->q + (t * H + h) * Dk + Dn, (size_t)Dr * sizeof *dst);
			cpu_rope(dst, a->rope_cos + t * (Dr / 2 + 1), a->rope_sin + t * (Dr / 2 + 1), (int)Dr);
		}
	for (int64_t h = 0; h < H; h++)
		jobs[h] = (struct cpu_mm){L->attn_k_b, h, a->q + h * Dk, H * Dk, a->qfull + h * W, H * W, 0, R, n};
	cpu_matmul(b, jobs, (int)H);

	attend(b, l, n, pos);

	/* o[h] = attn_v_b[h] · olat[h]; attn = attn_output · o */
	for (int64_t h = 0; h < H; h++)
		jobs[h] = (struct cpu_mm){L->attn_v_b, h, a->olat + h * R, H * R, a->o + h * Dv, H * Dv, 0, Dv, n};
	cpu_matmul(b, jobs, (int)H);
	jobs[0] = (struct cpu_mm){L->attn_output, 0, a->o, H * Dv, a->y, D, 0, D, n};
	cpu_matmul(b, jobs, 1);
	for (int64_t i = 0; i < n * D; i++)
		a->x[i] += a->y[i];
}

/* ---- feed-forward ---- */

struct swiglu_ctx { float *gate; const float *up; int64_t width; };

/* gate[i] = silu(gate[i]) * up[i], one row per task */
static void swiglu_task(void *arg, int64_t row, int tid)
{
	const struct swiglu_ctx *c = arg;
	float *g = c->gate + row * c->width;
	const float *u = c->up + row * c->width;

	(void)tid;
	for (int64_t i = 0; i < c->width; i++)
		g[i] = cpu_silu(g[i]) * u[i];
}

static void swiglu(struct cpu_backend *b, float *gate, const float *up, int64_t rows, int64_t width)
{
	struct swiglu_ctx c = {gate, up, width};

	cpu_parallel(b, rows, (double)rows * width * 8, swiglu_task, &c);
}

/* y = down · (silu(gate · h) ⊙ up · h) */
static void dense_ffn(struct cpu_backend *b, const struct glm_layer *L, int n)
{
	struct cpu_acts *a = &b->a;
	const int64_t D = b->base.model->hp.n_embd, F = L->ffn_gate->ne[1];
	struct cpu_mm jobs[2] = {
		{L->ffn_gate, 0, a->h, D, a->ff_gate, F, 0, F, n},
		{L->ffn_up, 0, a->h, D, a->ff_up, F, 0, F, n},
	};

	cpu_matmul(b, jobs, 2);
	swiglu(b, a->ff_gate, a->ff_up, n, F);
	jobs[0] = (struct cpu_mm){L->ffn_down, 0, a->ff_gate, F, a->y, D, 0, D, n};
	cpu_matmul(b, jobs, 1);
}

/* Router (spec §2.7): probabilities from the f32 router logits (sigmoid,
 * or softmax when the file says so), the bias only to choose the top k,
 * weights from the unbiased probabilities, normalised, then scaled. */
static void route(const struct glm_hparams *hp, const float *logits, const float *bias,
                  int32_t *sel, float *w)
{
	const int E = (int)hp->n_expert, K = (int)hp->n_expert_used;
	float prob[256], score[256];
	bool taken[256] = {false};
	double total = 0;

	if (hp->gating == GLM_GATING_SOFTMAX) {
		float mx = -INFINITY;
		double s = 0;

		for (int e = 0; e < E; e++)
			mx = logits[e] > mx ? logits[e] : mx;
		for (int e = 0; e < E; e++)
			s += prob[e] = expf(logits[e] - mx);
		for (int e = 0; e < E; e++)
			prob[e] = (float)(prob[e] / s);
	} else {
		for (int e = 0; e < E; e++)
			prob[e] = 1.0f / (1.0f + expf(-logits[e]));
	}
	for (int e = 0; e < E; e++)
		score[e] = prob[e] + (bias ? bias[e] : 0.0f);
	for (int k = 0; k < K; k++) {
		int best = -1;

		for (int e = 0; e < E; e++)      /* ties: the lower index, as a stable sort */
			if (!taken[e] && (best < 0 || score[e] > score[best]))
				best = e;
		taken[best] = true;
		sel[k] = best;
		w[k] = prob[best];
		total += prob[best];
	}
	for (int k = 0; k < K; k++) {
		if (hp->expert_weights_norm)
			w[k] = (float)(w[k] / (total + 1e-20));
		w[k] *= hp->expert_weights_scale;
	}
}

/* Routed experts (tokens grouped by expert, each expert's matrices applied
 * to its group at once) plus the shared expert, unweighted. */
static void moe_ffn(struct cpu_backend *b, int l, int n)
{
	const struct glm_model *m = b->base.model;
	const struct glm_hparams *hp = &m->hp;
	const struct glm_layer *L = &m->layers[l];
	struct cpu_acts *a = &b->a;
	const int64_t D = hp->n_embd, E = hp->n_expert, K = hp->n_expert_used;
	const int64_t Fe = L->ffn_gate_exps->ne[1];
	const int64_t Fs = L->ffn_gate_shexp ? L->ffn_gate_shexp->ne[1] : 0;
	struct cpu_mm jobs[2 * 256 + 2];
	int64_t *start = a->expert_start, count[257] = {0};
	int nj = 0;

	jobs[0] = (struct cpu_mm){L->ffn_gate_inp, 0, a->h, D, a->router, E, 0, E, n};
	cpu_matmul(b, jobs, 1);
	for (int t = 0; t < n; t++) {
		route(hp, a->router + t * E, b->lv[l].exp_probs_b, a->sel_expert + t * K, a->sel_weight + t * K);
		for (int k = 0; k < K; k++)
			count[a->sel_expert[t * K + k]]++;
	}
	start[0] = 0;
	for (int64_t e = 0; e < E; e++)
		start[e + 1] = start[e] + count[e];
	memset(count, 0, sizeof count);
	for (int t = 0; t < n; t++)
		for (int k = 0; k < K; k++) {
			int e = a->sel_expert[t * K + k];
			int64_t slot = start[e] + count[e]++;

			a->slot_token[slot] = t;
			a->slot_of[t * K + k] = (int32_t)slot;
			memcpy(a->ex_x + slot * D, a->h + (int64_t)t * D, (size_t)D * sizeof(float));
		}

	for (int64_t e = 0; e < E; e++) {
		int c = (int)(start[e + 1] - start[e]);

		if (!c)
			continue;
		jobs[nj++] = (struct cpu_mm){L->ffn_gate_exps, e, a->ex_x + start[e] * D, D,
		                             a->ex_gate + start[e] * Fe, Fe, 0, Fe, c};
		jobs[nj++] = (struct cpu_mm){L->ffn_up_exps, e, a->ex_x + start[e] * D, D,
		                             a->ex_up + start[e] * Fe, Fe, 0, Fe, c};
	}
	if (Fs) {
		jobs[nj++] = (struct cpu_mm){L->ffn_gate_shexp, 0, a->h, D, a->ff_gate, Fs, 0, Fs, n};
		jobs[nj++] = (struct cpu_mm){L->ffn_up_shexp, 0, a->h, D, a->ff_up, Fs, 0, Fs, n};
	}
	cpu_matmul(b, jobs, nj);
	swiglu(b, a->ex_gate, a->ex_up, n * K, Fe);
	if (Fs)
		swiglu(b, a->ff_gate, a->ff_up, n, Fs);

	nj = 0;
	for (int64_t e = 0; e < E; e++) {
		int c = (int)(start[e + 1] - start[e]);

		if (c)
			jobs[nj++] = (struct cpu_mm){L->ffn_down_exps, e, a->ex_gate + start[e] * Fe, Fe,
			                             a->ex_out + start[e] * D, D, 0, D, c};
	}
	if (Fs)
		jobs[nj++] = (struct cpu_mm){L->ffn_down_shexp, 0, a->ff_gate, Fs, a->sh_out, D, 0, D, n};
	cpu_matmul(b, jobs, nj);

	for (int t = 0; t < n; t++) {
		float *y = a->y + (int64_t)t * D;

		if (Fs)
			memcpy(y, a->sh_out + (int64_t)t * D, (size_t)D * sizeof *y);
		else
			memset(y, 0, (size_t)D * sizeof *y);
		for (int k = 0; k < K; k++)
			cpu_axpy(y, a->sel_weight[t * K + k], a->ex_out + (int64_t)a->slot_of[t * K + k] * D, D);
	}
}

static void feed_forward(struct cpu_backend *b, int l, int n)
{
	const struct glm_model *m = b->base.model;
	const int64_t D = m->hp.n_embd;
	struct cpu_acts *a = &b->a;

	for (int t = 0; t < n; t++)
		cpu_rmsnorm(a->h + t * D, a->x + t * D, b->lv[l].ffn_norm, (int)D, m->hp.rms_eps);
	if (m->layers[l].is_moe)
		moe_ffn(b, l, n);
	else
		dense_ffn(b, &m->layers[l], n);
	for (int64_t i = 0; i < n * D; i++)
		a->x[i] += a->y[i];
}

/* ---- output ---- */

/* logits = output · RMSNorm(x): every token's, or only the last one's. */
static void output(struct cpu_backend *b, int n, float *logits, bool all_logits)
{
	const struct glm_model *m = b->base.model;
	const int64_t D = m->hp.n_embd, V = m->hp.n_vocab;
	struct cpu_acts *a = &b->a;
	int first = all_logits ? 0 : n - 1, cnt = n - first;
	struct cpu_mm job;

	for (int t = first; t < n; t++)
		cpu_rmsnorm(a->h + (t - first) * D, a->x + t * D, b->output_norm, (int)D, m->hp.rms_eps);
	job = (struct cpu_mm){m->output, 0, a->h, D, logits, V, 0, V, cnt};
	cpu_matmul(b, &job, 1);
}

int cpu_forward(struct glm_backend *gb, const int32_t *ids, int n, int64_t pos,
                float *logits, bool all_logits, glm_atomic_int *cancel, char *err, size_t errlen)
{
	struct cpu_backend *b = (struct cpu_backend *)gb;
	const struct glm_model *m = gb->model;
	const struct glm_hparams *hp = &m->hp;
	const int half = (int)hp->n_rot / 2 + 1;

	const char *path = m->gguf && m->gguf->path ? m->gguf->path : "model";

	if (n < 1 || n > gb->cfg.max_batch || pos < 0 || pos + n > b->kv.n_ctx) {
		snprintf(err, errlen, "%s: cannot evaluate %d tokens at position %" PRId64
		         " (batch limit %d, context %" PRId64 ")", path, n, pos, gb->cfg.max_batch, b->kv.n_ctx);
		return -1;
	}
	for (int t = 0; t < n; t++)
		if (ids[t] < 0 || (uint32_t)ids[t] >= hp->n_vocab) {
			snprintf(err, errlen, "%s: token id %" PRId32 " is outside the vocabulary (%" PRIu32 " tokens)",
			         path, ids[t], hp->n_vocab);
			return -1;
		}
	for (int t = 0; t < n; t++)
		cpu_rope_table(b->a.rope_cos + t * half, b->a.rope_sin + t * half, pos + t,
		               (int)hp->n_rot, hp->rope_freq_base);

	embed(b, ids, n);
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		if (cancel && atomic_load(cancel))
			return 1;
		attention(b, (int)l, n, pos);
		feed_forward(b, (int)l, n);
	}
	if (logits)
		output(b, n, logits, all_logits);
	return 0;
}
