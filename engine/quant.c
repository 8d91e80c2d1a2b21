/* The public face of the quant kernels: argument checks, the choice of
 * SIMD path (once, at first use), activation formats and row loops. The
 * kernels themselves are in quant_ref.c, quant_q8.c (portable) and
 * quant_avx2*.c. */
#include "config.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_X86
#include <cpuid.h>
#endif
#include "engine/quant.h"
#include "engine/quant_blocks.h"

/* The AVX2 table completed with scalar entries where it has none. */
static struct quant_kernels simd_kernels[GGML_TYPE_COUNT];
/* The AVX2 2-row float-activation dots (NULL: one dot per row). */
static void (*simd_matvec2[GGML_TYPE_COUNT])(const void *, size_t, const float *, int64_t, float *);
/* The AVX2 one-row, 1-4 vector dots (NULL: none). */
static void (*simd_dotn[GGML_TYPE_COUNT])(const void *, const float *, size_t, int, int64_t, float *);
static bool simd_available;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Atomic(const struct quant_kernels *) active;

#ifdef HAVE_X86
/* F16C (CPUID.1:ECX bit 29): not every compiler's __builtin_cpu_supports
 * knows its name. Every AVX2 CPU so far has it; check anyway. */
static bool cpu_has_f16c(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#endif

static void init_paths(void)
{
	const char *no_simd = getenv("GLM_NO_SIMD");

	memcpy(simd_kernels, quant_scalar_kernels, sizeof simd_kernels);
#ifdef HAVE_X86
	__builtin_cpu_init();
	simd_available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
			 cpu_has_f16c();
	if (simd_available) {
		for (int t = 0; t < GGML_TYPE_COUNT; t++) {
			const struct quant_kernels *a = &quant_avx2_kernels[t];
			if (a->dequant)
				simd_kernels[t].dequant = a->dequant;
			if (a->dot_f32)
				simd_kernels[t].dot_f32 = a->dot_f32;
			if (a->dot_q8)
				simd_kernels[t].dot_q8 = a->dot_q8;
			if (quant_avx2_fused[t].dot_f32)
				simd_kernels[t].dot_f32 = quant_avx2_fused[t].dot_f32;
			simd_matvec2[t] = quant_avx2_fused[t].matvec2_f32;
			simd_dotn[t] = quant_avx2_fused[t].dotn_f32;
		}
	}
#endif
	bool use = simd_available && !(no_simd && *no_simd && strcmp(no_simd, "0"));
	atomic_store(&active, use ? simd_kernels : quant_scalar_kernels);
}

static const struct quant_kernels *kernels(void)
{
	pthread_once(&init_once, init_paths);
	return atomic_load_explicit(&active, memory_order_relaxed);
}

const char *quant_simd_path(void)
{
	return kernels() == simd_kernels ? "avx2" : "scalar";
}

bool quant_use_simd(bool on)
{
	kernels();
	atomic_store(&active, on && simd_available ? simd_kernels : quant_scalar_kernels);
	return on && simd_available;
}

bool quant_supported(enum ggml_type type)
{
	return (unsigned)type < GGML_TYPE_COUNT && quant_scalar_kernels[type].dequant != NULL;
}

/* Whole blocks of a supported type, or -1. */
static int64_t n_blocks(enum ggml_type type, int64_t n)
{
	if (!quant_supported(type) || n <= 0)
		return -1;
	const uint32_t be = ggml_type_traits_get(type)->block_elems;
	return n % be ? -1 : n / be;
}

void quant_dequantize_row(enum ggml_type type, const void *src, float *dst, int64_t n)
{
	int64_t nb = n_blocks(type, n);

	if (nb < 0) {
		for (int64_t i = 0; i < n; i++)
			dst[i] = NAN;
		return;
	}
	kernels()[type].dequant(src, dst, nb);
}

float quant_dot_f32(enum ggml_type type, const void *row, const float *x, int64_t n)
{
	int64_t nb = n_blocks(type, n);

	return nb < 0 ? NAN : kernels()[type].dot_f32(row, x, nb);
}

enum ggml_type quant_vec_dot_type(enum ggml_type type)
{
	if (!quant_supported(type))
		return GGML_TYPE_COUNT;
	switch (type) {
	case GGML_TYPE_F32:
	case GGML_TYPE_F16:
	case GGML_TYPE_BF16:
		return GGML_TYPE_F32;
	case GGML_TYPE_Q2_K:
	case GGML_TYPE_Q3_K:
	case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K:
	case GGML_TYPE_Q6_K:
	case GGML_TYPE_IQ4_XS:
		return GGML_TYPE_Q8_K;
	default:
		return GGML_TYPE_Q8_0;
	}
}

size_t quant_q8_bytes(enum ggml_type type, int64_t n)
{
	if (n_blocks(type, n) < 0)
		return 0;
	return ggml_row_bytes(quant_vec_dot_type(type), n);
}

void quant_quantize_x(enum ggml_type type, const float *x, void *xq, int64_t n)
{
	if (n_blocks(type, n) < 0)
		return;
	const bool simd = kernels() == simd_kernels;

	switch (quant_vec_dot_type(type)) {
	case GGML_TYPE_F32:
		memcpy(xq, x, (size_t)n * sizeof(float));
		break;
	case GGML_TYPE_Q8_K:
#ifdef HAVE_X86
		if (simd) {
			quant_avx2_quantize_q8_K(x, xq, n / QK_K);
			break;
		}
#endif
		quant_ref_quantize_q8_K(x, xq, n / QK_K);
		break;
	default:
		(void)simd;
		quant_quantize_row_q8_0(x, xq, n);
		break;
	}
}

float quant_dot_q8(enum ggml_type type, const void *row, const void *xq, int64_t n)
{
	int64_t nb = n_blocks(type, n);

	return nb < 0 ? NAN : kernels()[type].dot_q8(row, xq, nb);
}

void quant_quantize_row_q8_0(const float *x, void *dst, int64_t n)
{
	if (n <= 0 || n % QK8_0)
		return;
#ifdef HAVE_X86
	if (kernels() == simd_kernels) {
		quant_avx2_quantize_q8_0(x, dst, n / QK8_0);
		return;
	}
#endif
	quant_ref_quantize_q8_0(x, dst, n / QK8_0);
}

void quant_matvec_f32(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		      const float *x, int64_t n, float *y)
{
	int64_t nb = n_blocks(type, n);

	if (nb < 0) {
		for (int64_t r = 0; r < n_rows; r++)
			y[r] = NAN;
		return;
	}
	const struct quant_kernels *k = kernels();
	float (*dot)(const void *, const float *, int64_t) = k[type].dot_f32;
	int64_t r = 0;
	/* two rows per pass share each load of x; same bits as single dots */
	if (k == simd_kernels && simd_matvec2[type])
		for (; r + 2 <= n_rows; r += 2)
			simd_matvec2[type]((const uint8_t *)w + (size_t)r * row_stride, row_stride, x, nb, y + r);
	for (; r < n_rows; r++)
		y[r] = dot((const uint8_t *)w + (size_t)r * row_stride, x, nb);
}

void quant_matvec_q8(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		     const void *xq, int64_t n, float *y)
{
	int64_t nb = n_blocks(type, n);

	if (nb < 0) {
		for (int64_t r = 0; r < n_rows; r++)
			y[r] = NAN;
		return;
	}
	float (*dot)(const void *, const void *, int64_t) = kernels()[type].dot_q8;
	for (int64_t r = 0; r < n_rows; r++)
		y[r] = dot((const uint8_t *)w + (size_t)r * row_stride, xq, nb);
}

int quant_fused_f32_batch(enum ggml_type type)
{
	if (!quant_supported(type) || kernels() != simd_kernels || !simd_dotn[type])
		return 0;
	switch (type) {
	case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
		return 4;
	default:
		return 8;
	}
}

void quant_matmul_f32(enum ggml_type type, const void *w, size_t row_stride, int64_t n_rows,
		      const float *x, size_t ldx, int n_x, int64_t n, float *y, size_t ldy)
{
	int64_t nb = n_blocks(type, n);

	if (nb < 0) {
		for (int t = 0; t < n_x; t++)
			for (int64_t r = 0; r < n_rows; r++)
				y[t * ldy + r] = NAN;
		return;
	}
	const struct quant_kernels *k = kernels();
	void (*dotn)(const void *, const float *, size_t, int, int64_t, float *) =
		k == simd_kernels ? simd_dotn[type] : NULL;
	for (int64_t r = 0; r < n_rows; r++) {
		const uint8_t *row = (const uint8_t *)w + (size_t)r * row_stride;
		for (int t = 0; t < n_x; t += 4) {
			const int nt = n_x - t < 4 ? n_x - t : 4;
			float out[4];
			if (dotn) {
				dotn(row, x + t * ldx, ldx, nt, nb, out);
			} else {
				for (int u = 0; u < nt; u++)
					out[u] = k[type].dot_f32(row, x + (t + u) * ldx, nb);
			}
			for (int u = 0; u < nt; u++)
				y[(t + u) * ldy + r] = out[u];
		}
	}
}
