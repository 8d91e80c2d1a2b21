/* Private to the CPU backend (cpu_backend.c, cpu_forward.c, cpu_ops.c):
 * the backend's state, its latent KV cache and scratch, and the numeric
 * kernels the forward pass is written with. */
#ifndef GLM_CPU_INTERNAL_H
#define GLM_CPU_INTERNAL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "engine/backend.h"
#include "engine/threadpool.h"

/* The latent cache: per layer, n_ctx rows of [c (kv_lora_rank) | k_rope
 * (n_rot)], V being the first kv_lora_rank values of the same row. q8_0
 * rows are padded with zeros to whole 32-value blocks. */
struct cpu_kv {
	enum glm_kv_type type;
	int64_t n_ctx;
	int row_vals;                 /* kv_lora_rank + n_rot (576) */
	int row_pad;                  /* row_vals rounded up to 32 */
	size_t row_bytes;
	size_t layer_bytes;           /* n_ctx * row_bytes */
	uint8_t *data;                /* n_layer * layer_bytes (mmap'ed, lazily committed) */
	size_t bytes;
};

/* Keys attended to per block: their rows are loaded (converted to f32)
 * once and serve every head. */
#define CPU_ATTN_KEYS 16

/* Per-thread scratch for the kernels. */
struct cpu_thread_scratch {
	float *rows;                  /* CPU_MM_ROWS dequantized weight rows of up to max_in values */
	float *kvrow;                 /* CPU_ATTN_KEYS cache rows as f32 (row_pad apart) */
};

/* Activations of one forward call, max_batch tokens each. */
struct cpu_acts {
	float *x;                     /* [n][D] residual stream */
	float *h;                     /* [n][D] normed input of a block */
	float *cq;                    /* [n][q_lora_rank] */
	float *q;                     /* [n][H * qk_head] */
	float *ckv;                   /* [n][kv_lora_rank + n_rot] */
	float *qfull;                 /* [n][H][kv_lora_rank + n_rot]: absorbed nope | roped rope */
	float *olat;                  /* [n][H][kv_lora_rank] */
	float *o;                     /* [n][H * v_head] */
	float *y;                     /* [n][D] block output */
	float *ff_gate, *ff_up;       /* dense: [n][n_ff]; MoE shared expert: [n][n_ff_exp] */
	float *rope_cos, *rope_sin;   /* [n][n_rot / 2] */
	/* MoE: tokens grouped by expert, n * n_expert_used slots */
	float *router;                /* [n][n_expert] */
	int32_t *sel_expert;          /* [n][k] */
	float *sel_weight;            /* [n][k] */
	int32_t *slot_token;          /* [n*k] token of each grouped slot */
	int32_t *slot_of;             /* [n][k] grouped slot of each selection */
	int64_t *expert_start;        /* [n_expert + 1] */
	float *ex_x;                  /* [n*k][D] gathered inputs */
	float *ex_gate, *ex_up;       /* [n*k][n_ff_exp] */
	float *ex_out;                /* [n*k][D] */
	float *sh_out;                /* [n][D] shared expert */
	/* attention partial results when one token's keys are split across tasks */
	float *part;                  /* [max_parts][H][kv_lora_rank + 2] */
	int max_parts;
};

struct cpu_backend {
	struct glm_backend base;      /* first: the vtable casts */
	struct glm_threadpool *pool;
	int n_threads;
	struct cpu_kv kv;
	struct cpu_acts a;
	struct cpu_thread_scratch *ts;    /* n_threads */
	int max_in;                   /* widest weight row */
	/* f32 views of the small 1-D tensors (norms, expert bias): into the
	 * file when it stores them as f32, else copies owned by vec_copies */
	struct cpu_layer_vecs {
		const float *attn_norm, *q_a_norm, *kv_a_norm, *ffn_norm, *exp_probs_b;
	} *lv;                        /* n_layer */
	const float *output_norm;
	float **vec_copies;
	int n_vec_copies;
	int64_t scratch_bytes;
	/* q8_activations: the activations of one cpu_matmul, quantized */
	bool q8;
	uint8_t *xq;
	size_t xq_cap;
};

/* ---- kernels (cpu_ops.c) ---- */

/* Rows of a weight matrix dequantized together and dotted against the
 * batch (so each weight row is read once per batch). */
#define CPU_MM_ROWS 4

/* One matrix product: y[t*ldy + r - row0] = W[slab] row r · x[t*ldx] for
 * rows [row0, row0 + rows) and t in [0, n). */
struct cpu_mm {
	const struct glm_tensor *w;
	int64_t slab;
	const float *x;
	int64_t ldx;
	float *y;
	int64_t ldy;
	int64_t row0, rows;
	int n;
};

/* Run all jobs at once across the pool (one fork-join). */
void cpu_matmul(struct cpu_backend *b, const struct cpu_mm *jobs, int n_jobs);

/* fn(ctx, i, tid) for i in [0, n): across the pool, or inline when the
 * work (in multiply-adds) is too small to repay waking the other threads,
 * which on a loaded machine can take longer than the work itself. */
void cpu_parallel(struct cpu_backend *b, int64_t n, double work,
                  void (*fn)(void *ctx, int64_t i, int tid), void *ctx);

void  cpu_rmsnorm(float *y, const float *x, const float *w, int n, float eps);
/* Rotate adjacent pairs (x[2j], x[2j+1]) by the angles of cos/sin[j]. */
void  cpu_rope(float *x, const float *cos_t, const float *sin_t, int n_rot);
void  cpu_rope_table(float *cos_t, float *sin_t, int64_t pos, int n_rot, float theta);
float cpu_dot(const float *a, const float *b, int64_t n);
/* out[k] = r_k · x for four vectors r_k at once. */
void  cpu_dot4(const float *r0, const float *r1, const float *r2, const float *r3,
               const float *x, int64_t n, float out[4]);
/* out[2k + j] = r[k] · x_j, four rows against two vectors (each sum as cpu_dot4's). */
void  cpu_dot4x2(const float *const r[4], const float *x0, const float *x1, int64_t n, float out[8]);
/* acc += Σ_k p[k] · rows[k] over n values. */
void  cpu_acc_rows(float *acc, const float *p, const float *const *rows, int nrows, int64_t n);
/* y += a * x */
void  cpu_axpy(float *y, float a, const float *x, int64_t n);
static inline float cpu_silu(float x) { return x / (1.0f + __builtin_expf(-x)); }

/* ---- the latent cache (cpu_backend.c) ---- */
void cpu_kv_store(const struct cpu_kv *kv, int layer, int64_t pos, const float *row);
/* The row as f32: either a pointer into the cache (f32) or `buf` filled. */
const float *cpu_kv_load(const struct cpu_kv *kv, int layer, int64_t pos, float *buf);

/* ---- the forward pass (cpu_forward.c) ---- */
int cpu_forward(struct glm_backend *gb, const int32_t *ids, int n, int64_t pos,
                float *logits, bool all_logits, glm_atomic_int *cancel, char *err, size_t errlen);

#endif
