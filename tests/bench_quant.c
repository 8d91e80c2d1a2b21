/* bench_quant: how fast one core multiplies a quantized matrix by a vector.
 * Prints GB/s of weight bytes read by quant_matvec_q8 (the CPU decode
 * path), quant_matvec_f32 and the scalar q8 path, per type, next to the
 * core's plain read bandwidth (memchr over the same number of bytes).
 *
 *   bench_quant [MB of weights per type, default 64] [seconds per case, default 0.3]
 *               [values per row, default 2048: GLM-4.7-Flash's hidden size]
 *
 * The default matrix is larger than the last-level cache, so the numbers
 * are the memory-bound ones the decoder sees; 1 MB stays in L2 and shows
 * the kernels' compute ceiling. Times are this thread's CPU time (the
 * development machine is shared). Not a test: indicative numbers. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine/quant.h"

/* CPU time of this thread: on a shared machine, time spent descheduled
 * would otherwise count against the kernel. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Byte offsets of the half-precision scales in one block (-1 ends). */
static const int *scale_offsets(enum ggml_type t)
{
	static const int d0[] = {0, -1}, dm[] = {0, 2, -1}, q2k[] = {80, 82, -1};
	static const int q3k[] = {108, -1}, q6k[] = {208, -1}, none[] = {-1};

	switch (t) {
	case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
		return dm;
	case GGML_TYPE_Q2_K: return q2k;
	case GGML_TYPE_Q3_K: return q3k;
	case GGML_TYPE_Q6_K: return q6k;
	case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: return none;
	default: return d0;
	}
}

/* Random weights with sane (normal, small) scales; float types get
 * small random values so no denormal slows the float path. */
static void fill(enum ggml_type t, uint8_t *w, size_t bytes)
{
	const struct ggml_type_traits *tr = ggml_type_traits_get(t);

	if (t == GGML_TYPE_F32 || t == GGML_TYPE_F16 || t == GGML_TYPE_BF16) {
		size_t es = tr->block_bytes;
		for (size_t i = 0; i + es <= bytes; i += es) {
			float f = (float)((int)(next_rand() % 2001) - 1000) / 1000.0f;
			uint16_t h = t == GGML_TYPE_F16 ? glm_f32_to_f16(f) : glm_f32_to_bf16(f);
			if (t == GGML_TYPE_F32)
				memcpy(w + i, &f, 4);
			else
				memcpy(w + i, &h, 2);
		}
		return;
	}
	for (size_t i = 0; i < bytes; i++)
		w[i] = (uint8_t)next_rand();
	for (size_t b = 0; b + tr->block_bytes <= bytes; b += tr->block_bytes)
		for (const int *o = scale_offsets(t); *o >= 0; o++) {
			uint16_t h = glm_f32_to_f16(0.001f + (float)(next_rand() % 1000) * 1e-5f);
			memcpy(w + b + *o, &h, 2);
		}
}

/* One matrix-vector product to time. */
struct job {
	enum ggml_type type;
	const uint8_t *w;
	size_t row_bytes;
	int64_t rows, n;
	const void *x;		/* float, or quantized when q8 */
	float *y;
	int q8;
};

static void run(const struct job *j)
{
	if (j->q8)
		quant_matvec_q8(j->type, j->w, j->row_bytes, j->rows, j->x, j->n, j->y);
	else
		quant_matvec_f32(j->type, j->w, j->row_bytes, j->rows, j->x, j->n, j->y);
}

/* Seconds per product, repeated for at least `budget` seconds. */
static double time_job(const struct job *j, double budget)
{
	double t0 = now(), t;
	int reps = 0;

	do {
		run(j);
		reps++;
	} while ((t = now() - t0) < budget);
	return t / reps;
}

static double time_read(const uint8_t *buf, size_t len, double budget)
{
	double t0 = now(), t;
	int reps = 0;

	do {
		if (memchr(buf, 1, len))	/* the buffer is all zero: reads it all */
			return -1;
		reps++;
	} while ((t = now() - t0) < budget);
	return t / reps;
}

int main(int argc, char **argv)
{
	static const enum ggml_type types[] = {
		GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, GGML_TYPE_Q8_0, GGML_TYPE_Q5_K, GGML_TYPE_IQ4_XS,
		GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_IQ4_NL,
		GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_BF16, GGML_TYPE_F16, GGML_TYPE_F32,
	};
	const double mb = argc > 1 ? atof(argv[1]) : 64;
	const double budget = argc > 2 ? atof(argv[2]) : 0.3;
	const int64_t n = argc > 3 ? atoll(argv[3]) : 2048;
	const size_t cap = (size_t)(mb * 1e6);
	uint8_t *w = malloc(cap + 64);
	/* y holds a row count of the smallest type (Q2_K, 84 bytes per 256) */
	float *x = malloc(n * sizeof *x), *y = malloc((cap / 84 + 1) * sizeof *y);
	void *xq = malloc(n * 4 + 1024);

	if (!w || !x || !y || !xq || mb <= 0 || n <= 0 || n % 256 || (size_t)n * 4 > cap) {
		fprintf(stderr, "bench_quant: bad size (rows must be a multiple of 256 values) "
			"or out of memory\n");
		return 1;
	}
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)((int)(next_rand() % 2001) - 1000) / 1000.0f;
	memset(w, 0, cap);
	double t_read = time_read(w, cap, budget);
	printf("# %.0f MB per type, rows of %lld values, one thread, SIMD path %s\n",
	       mb, (long long)n, quant_simd_path());
	printf("# plain read (memchr): %.1f GB/s\n", cap / t_read / 1e9);
	printf("%-7s %9s %12s %12s %12s\n", "type", "bytes/row", "q8 GB/s", "f32 GB/s", "scalar q8");
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		enum ggml_type t = types[k];
		const size_t rb = ggml_row_bytes(t, n);
		const int64_t rows = (int64_t)(cap / rb);
		const size_t bytes = (size_t)rows * rb;

		fill(t, w, bytes);
		struct job jq = { t, w, rb, rows, n, xq, y, 1 }, jf = { t, w, rb, rows, n, x, y, 0 };

		quant_use_simd(true);
		quant_quantize_x(t, x, xq, n);
		double tq = time_job(&jq, budget);
		double tf = time_job(&jf, budget);
		quant_use_simd(false);
		quant_quantize_x(t, x, xq, n);
		double ts = time_job(&jq, budget / 3);
		printf("%-7s %9zu %12.1f %12.1f %12.1f\n", ggml_type_name(t), rb,
		       bytes / tq / 1e9, bytes / tf / 1e9, bytes / ts / 1e9);
		fflush(stdout);
	}
	free(w);
	free(x);
	free(y);
	free(xq);
	return 0;
}
