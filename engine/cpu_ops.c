/* The CPU backend's numeric kernels: RMSNorm, RoPE, dot products and the
 * batched matrix product over quantized weight rows.
 *
 * Matrix products read the weights where the file put them. Four rows at a
 * time are dequantized (bit-exact) into per-thread scratch and dotted
 * against all n activation vectors of the batch, two at a time, so every
 * weight byte is read once per batch (prefill) and decode gets the same
 * vectorized f32 dot. Activations stay f32: this is the reference. The
 * opt-in q8 path (q8_activations) uses the integer kernels of quant.c. */
#include "config.h"
#include "engine/cpu_internal.h"
#include "engine/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GCC vector extensions: compiled once for x86-64-v3 CPUs (AVX2 + FMA,
 * multiply-adds fused) and once generic, picked at load time (ifunc). */
typedef float v8f __attribute__((vector_size(32)));

#if defined(HAVE_X86) && defined(__GNUC__) && !defined(__clang__)
#define SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define SIMD_CLONES
#endif

/* Macros rather than functions: a 32-byte vector passed by value would
 * change the calling convention between the clones. */
#define load8(p) ({ v8f v_; memcpy(&v_, (p), sizeof v_); v_; })
#define hsum8(v) (((v)[0] + (v)[4]) + ((v)[1] + (v)[5]) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))

SIMD_CLONES
float cpu_dot(const float *a, const float *b, int64_t n)
{
	v8f acc0 = {0}, acc1 = {0};
	int64_t i = 0;
	float s;

	for (; i + 16 <= n; i += 16) {
		acc0 += load8(a + i) * load8(b + i);
		acc1 += load8(a + i + 8) * load8(b + i + 8);
	}
	for (; i + 8 <= n; i += 8)
		acc0 += load8(a + i) * load8(b + i);
	s = hsum8(acc0 + acc1);
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

SIMD_CLONES
void cpu_axpy(float *y, float a, const float *x, int64_t n)
{
	v8f va = {a, a, a, a, a, a, a, a};
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f v = load8(y + i) + va * load8(x + i);
		memcpy(y + i, &v, sizeof v);
	}
	for (; i < n; i++)
		y[i] += a * x[i];
}

/* out[k] = r[k] · x for four rows at once: x is loaded once for all four. */
SIMD_CLONES
void cpu_dot4(const float *r0, const float *r1, const float *r2, const float *r3,
                 const float *x, int64_t n, float out[4])
{
	v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f xv = load8(x + i);
		a0 += load8(r0 + i) * xv;
		a1 += load8(r1 + i) * xv;
		a2 += load8(r2 + i) * xv;
		a3 += load8(r3 + i) * xv;
	}
	out[0] = hsum8(a0);
	out[1] = hsum8(a1);
	out[2] = hsum8(a2);
	out[3] = hsum8(a3);
	for (; i < n; i++) {
		out[0] += r0[i] * x[i];
		out[1] += r1[i] * x[i];
		out[2] += r2[i] * x[i];
		out[3] += r3[i] * x[i];
	}
}

/* out[2k + j] = r_k · x_j: four rows against two activation vectors, eight
 * sums at once, so each load feeds more multiply-adds (prefill is bound
 * by loads, not arithmetic, with one vector at a time). Each sum has the
 * bits of cpu_dot4's. */
SIMD_CLONES
void cpu_dot4x2(const float *const r[4], const float *x0, const float *x1, int64_t n, float out[8])
{
	v8f a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0}, a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f u = load8(x0 + i), v = load8(x1 + i), w;

		w = load8(r[0] + i);
		a00 += w * u;
		a01 += w * v;
		w = load8(r[1] + i);
		a10 += w * u;
		a11 += w * v;
		w = load8(r[2] + i);
		a20 += w * u;
		a21 += w * v;
		w = load8(r[3] + i);
		a30 += w * u;
		a31 += w * v;
	}
	out[0] = hsum8(a00);
	out[1] = hsum8(a01);
	out[2] = hsum8(a10);
	out[3] = hsum8(a11);
	out[4] = hsum8(a20);
	out[5] = hsum8(a21);
	out[6] = hsum8(a30);
	out[7] = hsum8(a31);
	for (; i < n; i++)
		for (int k = 0; k < 4; k++) {
			out[2 * k] += r[k][i] * x0[i];
			out[2 * k + 1] += r[k][i] * x1[i];
		}
}

/* acc += Σ_k p[k] · rows[k], n values: acc is read and written once for
 * all the rows, not once per row. 32 values at a time in four independent
 * sums: one chain of nrows dependent multiply-adds per 8 values was bound
 * by their latency. Each value still sums its rows in order k = 0, 1, ... */
SIMD_CLONES
void cpu_acc_rows(float *acc, const float *p, const float *const *rows, int nrows, int64_t n)
{
	int64_t i = 0;

	for (; i + 32 <= n; i += 32) {
		v8f a0 = load8(acc + i), a1 = load8(acc + i + 8);
		v8f a2 = load8(acc + i + 16), a3 = load8(acc + i + 24);

		for (int k = 0; k < nrows; k++) {
			v8f pk = {p[k], p[k], p[k], p[k], p[k], p[k], p[k], p[k]};
			const float *r = rows[k] + i;
			a0 += pk * load8(r);
			a1 += pk * load8(r + 8);
			a2 += pk * load8(r + 16);
			a3 += pk * load8(r + 24);
		}
		memcpy(acc + i, &a0, sizeof a0);
		memcpy(acc + i + 8, &a1, sizeof a1);
		memcpy(acc + i + 16, &a2, sizeof a2);
		memcpy(acc + i + 24, &a3, sizeof a3);
	}
	for (; i + 8 <= n; i += 8) {
		v8f a = load8(acc + i);

		for (int k = 0; k < nrows; k++) {
			v8f pk = {p[k], p[k], p[k], p[k], p[k], p[k], p[k], p[k]};
			a += pk * load8(rows[k] + i);
		}
		memcpy(acc + i, &a, sizeof a);
	}
	for (; i < n; i++)
		for (int k = 0; k < nrows; k++)
			acc[i] += p[k] * rows[k][i];
}

void cpu_rmsnorm(float *y, const float *x, const float *w, int n, float eps)
{
	double ss = 0;
	float scale;

	for (int i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	scale = (float)(1.0 / sqrt(ss / n + eps));
	for (int i = 0; i < n; i++)
		y[i] = x[i] * scale * w[i];
}

/* Angles in double: pos * theta^(-2j/n_rot) loses nothing at large positions. */
void cpu_rope_table(float *cos_t, float *sin_t, int64_t pos, int n_rot, float theta)
{
	for (int j = 0; j < n_rot / 2; j++) {
		double inv = pow((double)theta, -2.0 * j / n_rot);
		double ang = (double)pos * inv;
		cos_t[j] = (float)cos(ang);
		sin_t[j] = (float)sin(ang);
	}
}

void cpu_rope(float *x, const float *cos_t, const float *sin_t, int n_rot)
{
	for (int j = 0; j < n_rot / 2; j++) {
		float x0 = x[2 * j], x1 = x[2 * j + 1];
		x[2 * j] = x0 * cos_t[j] - x1 * sin_t[j];
		x[2 * j + 1] = x1 * cos_t[j] + x0 * sin_t[j];
	}
}

/* Below this many multiply-adds a job runs on the calling thread. */
#define PARALLEL_MIN_WORK (1 << 17)

void cpu_parallel(struct cpu_backend *b, int64_t n, double work,
                  void (*fn)(void *ctx, int64_t i, int tid), void *ctx)
{
	if (b->n_threads == 1 || work < PARALLEL_MIN_WORK) {
		for (int64_t i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	glm_parallel_for(b->pool, n, 1, fn, ctx);
}

/* ---- matrix products ---- */

#define MM_MAX_JOBS 128

struct mm_ctx {
	struct cpu_backend *b;
	const struct cpu_mm *jobs;
	int n_jobs;
	int64_t rows_per_task;
	int64_t task_start[MM_MAX_JOBS + 1];   /* prefix sums of tasks per job */
	/* q8_activations: each job's n activation vectors, quantized, xq_len apart */
	const uint8_t *xq[MM_MAX_JOBS];
	size_t xq_len[MM_MAX_JOBS];
};

static bool is_float_type(enum ggml_type t)
{
	return t == GGML_TYPE_F32 || t == GGML_TYPE_F16 || t == GGML_TYPE_BF16;
}

/* The fast path: integer dot products against activations quantized once
 * per call. Not the reference (about 1e-3 away), so only on request. */
static void mm_rows_q8(const struct cpu_mm *j, const uint8_t *xq, size_t xq_len, int64_t r0, int64_t r1)
{
	const struct glm_tensor *w = j->w;
	const int64_t in = w->ne[0];

	if (j->n == 1) {
		quant_matvec_q8(w->type, glm_tensor_row(w, r0, j->slab), w->nb[1], r1 - r0, xq, in,
		                j->y + (r0 - j->row0));
		return;
	}
	for (int64_t r = r0; r < r1; r++) {
		const void *row = glm_tensor_row(w, r, j->slab);

		for (int t = 0; t < j->n; t++)
			j->y[(size_t)t * j->ldy + (r - j->row0)] = quant_dot_q8(w->type, row, xq + (size_t)t * xq_len, in);
	}
}

/* Quantize every job's activations into b->xq (grown as needed). */
static int quantize_acts(struct cpu_backend *b, const struct cpu_mm *jobs, int n_jobs, struct mm_ctx *c)
{
	size_t total = 0, off = 0;

	for (int i = 0; i < n_jobs; i++) {
		c->xq[i] = NULL;
		c->xq_len[i] = 0;
		if (!is_float_type(jobs[i].w->type)) {
			c->xq_len[i] = quant_q8_bytes(jobs[i].w->type, jobs[i].w->ne[0]);
			total += c->xq_len[i] * (size_t)jobs[i].n;
		}
	}
	if (total > b->xq_cap) {
		uint8_t *nx = realloc(b->xq, total);
		if (!nx)
			return -1;
		b->xq = nx;
		b->xq_cap = total;
	}
	for (int i = 0; i < n_jobs; i++) {
		if (!c->xq_len[i])
			continue;
		c->xq[i] = b->xq + off;
		for (int t = 0; t < jobs[i].n; t++)
			quant_quantize_x(jobs[i].w->type, jobs[i].x + (size_t)t * jobs[i].ldx,
			                 b->xq + off + (size_t)t * c->xq_len[i], jobs[i].w->ne[0]);
		off += c->xq_len[i] * (size_t)jobs[i].n;
	}
	return 0;
}

static void mm_rows(struct cpu_backend *b, const struct cpu_mm *j, int64_t r0, int64_t r1, int tid)
{
	const struct glm_tensor *w = j->w;
	const int64_t in = w->ne[0];
	const bool f32 = w->type == GGML_TYPE_F32;

	/* One token (decode): quant.c's float-activation matvec dequantizes in
	 * registers; no row goes through scratch. A few tokens (an expert's
	 * share of a prefill): each block is decoded in registers once for
	 * them all (quant_fused_f32_batch: how few). Many tokens: dequantizing
	 * rows once into scratch and running plain float dots is cheaper. */
	const int fused = f32 ? 0 : quant_fused_f32_batch(w->type);   /* 0: scalar path, or no kernel */

	if (j->n == 1 && fused) {
		quant_matvec_f32(w->type, glm_tensor_row(w, r0, j->slab), w->nb[1], r1 - r0, j->x, in,
		                 j->y + (r0 - j->row0));
		return;
	}
	if (j->n <= fused) {
		quant_matmul_f32(w->type, glm_tensor_row(w, r0, j->slab), w->nb[1], r1 - r0, j->x,
		                 (size_t)j->ldx, j->n, in, j->y + (r0 - j->row0), (size_t)j->ldy);
		return;
	}
	for (int64_t r = r0; r < r1; r += CPU_MM_ROWS) {
		int nr = r1 - r < CPU_MM_ROWS ? (int)(r1 - r) : CPU_MM_ROWS;
		const float *rp[CPU_MM_ROWS];
		float out[CPU_MM_ROWS];

		for (int k = 0; k < CPU_MM_ROWS; k++) {
			int kk = k < nr ? k : 0;          /* pad with row 0, results dropped */
			const void *src = glm_tensor_row(w, r + kk, j->slab);

			if (f32) {
				rp[k] = src;
			} else if (k < nr) {
				float *dst = b->ts[tid].rows + (size_t)k * b->max_in;
				quant_dequantize_row(w->type, src, dst, in);
				rp[k] = dst;
			} else {
				rp[k] = rp[0];
			}
		}
		for (int t = 0; t < j->n; t += 2) {
			float *y = j->y + (size_t)t * j->ldy + (r - j->row0);
			const float *x = j->x + (size_t)t * j->ldx;

			if (t + 1 < j->n) {
				float out2[8];

				cpu_dot4x2(rp, x, x + j->ldx, in, out2);
				for (int k = 0; k < nr; k++) {
					y[k] = out2[2 * k];
					y[j->ldy + k] = out2[2 * k + 1];
				}
				continue;
			}
			cpu_dot4(rp[0], rp[1], rp[2], rp[3], x, in, out);
			for (int k = 0; k < nr; k++)
				y[k] = out[k];
		}
	}
}

static void mm_task(void *arg, int64_t task, int tid)
{
	struct mm_ctx *c = arg;
	int lo = 0, hi = c->n_jobs - 1;
	const struct cpu_mm *j;
	int64_t r0, r1;

	while (lo < hi) {                  /* last job whose first task <= task */
		int mid = (lo + hi + 1) / 2;
		if (c->task_start[mid] <= task)
			lo = mid;
		else
			hi = mid - 1;
	}
	j = &c->jobs[lo];
	r0 = j->row0 + (task - c->task_start[lo]) * c->rows_per_task;
	r1 = r0 + c->rows_per_task;
	if (r1 > j->row0 + j->rows)
		r1 = j->row0 + j->rows;
	if (c->xq[lo])
		mm_rows_q8(j, c->xq[lo], c->xq_len[lo], r0, r1);
	else
		mm_rows(c->b, j, r0, r1, tid);
}

void cpu_matmul(struct cpu_backend *b, const struct cpu_mm *jobs, int n_jobs)
{
	int64_t total = 0, rpt, n_tasks = 0;
	double work = 0;
	int nth = b->n_threads;
	struct mm_ctx ctx, *c = &ctx;

	if (n_jobs <= 0)
		return;
	for (int i = 0; i < n_jobs; i++) {
		total += jobs[i].rows;
		work += (double)jobs[i].rows * jobs[i].w->ne[0] * jobs[i].n;
	}
	/* about 8 tasks per thread for balance, rows in whole kernel groups */
	rpt = total / (nth * 8);
	rpt = (rpt + CPU_MM_ROWS - 1) / CPU_MM_ROWS * CPU_MM_ROWS;
	if (rpt < CPU_MM_ROWS)
		rpt = CPU_MM_ROWS;
	if (rpt > 256)
		rpt = 256;
	if (n_jobs > MM_MAX_JOBS) {
		/* callers issue at most a few dozen jobs; split a larger list */
		cpu_matmul(b, jobs, MM_MAX_JOBS);
		cpu_matmul(b, jobs + MM_MAX_JOBS, n_jobs - MM_MAX_JOBS);
		return;
	}
	c->b = b;
	c->jobs = jobs;
	c->n_jobs = n_jobs;
	c->rows_per_task = rpt;
	for (int i = 0; i < n_jobs; i++) {
		c->task_start[i] = n_tasks;
		n_tasks += (jobs[i].rows + rpt - 1) / rpt;
	}
	c->task_start[n_jobs] = n_tasks;
	memset(c->xq, 0, sizeof c->xq);
	if (b->q8 && quantize_acts(b, jobs, n_jobs, c))
		memset(c->xq, 0, sizeof c->xq);     /* no memory: the f32 path still works */
	cpu_parallel(b, n_tasks, work, mm_task, c);
}
