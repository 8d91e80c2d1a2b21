/* The ggml block layouts (facts of the GGUF file format, little-endian) and
 * the kernel table the quant files share. Internal to engine/quant*.c; the
 * CUDA backend may include it for the layouts. Half-precision scales are
 * stored as raw uint16_t bits. */
#ifndef GLM_QUANT_BLOCKS_H
#define GLM_QUANT_BLOCKS_H

#include <assert.h>
#include <stdint.h>
#include "engine/ggml_types.h"

#define QK4_0 32
#define QK8_0 32
#define QK_K  256
#define K_SCALE_SIZE 12

/* 32-value blocks: x = d·(q − 8) etc.; nibble j holds value j (low) and j+16 (high). */
struct block_q4_0 { uint16_t d; uint8_t qs[16]; };
struct block_q4_1 { uint16_t d, m; uint8_t qs[16]; };
struct block_q5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct block_q5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct block_q8_0 { uint16_t d; int8_t qs[32]; };
struct block_iq4_nl { uint16_t d; uint8_t qs[16]; };

/* 256-value super-blocks. */
struct block_q2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
struct block_q3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct block_q4_K { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[128]; };
struct block_q5_K { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[32]; uint8_t qs[128]; };
struct block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
struct block_iq4_xs { uint16_t d, scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };

/* The activation format of the K types: float scale, and the sums of each
 * 16 values so that per-sub-block minimums and offsets cost one multiply. */
struct block_q8_K { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; };

static_assert(sizeof(struct block_q4_0) == 18, "q4_0 layout");
static_assert(sizeof(struct block_q4_1) == 20, "q4_1 layout");
static_assert(sizeof(struct block_q5_0) == 22, "q5_0 layout");
static_assert(sizeof(struct block_q5_1) == 24, "q5_1 layout");
static_assert(sizeof(struct block_q8_0) == 34, "q8_0 layout");
static_assert(sizeof(struct block_iq4_nl) == 18, "iq4_nl layout");
static_assert(sizeof(struct block_q2_K) == 84, "q2_K layout");
static_assert(sizeof(struct block_q3_K) == 110, "q3_K layout");
static_assert(sizeof(struct block_q4_K) == 144, "q4_K layout");
static_assert(sizeof(struct block_q5_K) == 176, "q5_K layout");
static_assert(sizeof(struct block_q6_K) == 210, "q6_K layout");
static_assert(sizeof(struct block_iq4_xs) == 136, "iq4_xs layout");
static_assert(sizeof(struct block_q8_K) == 292, "q8_K layout");

/* The 16 non-uniform levels of IQ4_NL and IQ4_XS. */
extern const int8_t quant_iq4nl_values[16];

/* Per-type kernels over nb whole blocks (for F32/F16/BF16 a "block" is one
 * value). dot_q8 takes the activation already in quant_vec_dot_type(). */
struct quant_kernels {
	void  (*dequant)(const void *w, float *y, int64_t nb);
	float (*dot_f32)(const void *w, const float *x, int64_t nb);
	float (*dot_q8)(const void *w, const void *xq, int64_t nb);
};

/* Tables indexed by type id; entries of unsupported types are all NULL.
 * The AVX2 table falls back to the scalar entry where it has none. */
extern const struct quant_kernels quant_scalar_kernels[GGML_TYPE_COUNT];
#ifdef HAVE_X86
extern const struct quant_kernels quant_avx2_kernels[GGML_TYPE_COUNT];
/* Float-activation dots that dequantize in registers (quant_avx2_f32.c):
 * the single dot and the same dot for 2 rows stride bytes apart, each row
 * with the bits of the single dot. NULL where a type has none. */
struct quant_fused_kernels {
	float (*dot_f32)(const void *w, const float *x, int64_t nb);
	void  (*matvec2_f32)(const void *w, size_t stride, const float *x, int64_t nb, float y[2]);
	/* one row against 1-4 vectors ldx floats apart: each block decoded
	 * once for all of them; y[t] with the bits of the single dot */
	void  (*dotn_f32)(const void *w, const float *x, size_t ldx, int n_x, int64_t nb, float *y);
};
extern const struct quant_fused_kernels quant_avx2_fused[GGML_TYPE_COUNT];
void quant_avx2_quantize_q8_0(const float *x, struct block_q8_0 *y, int64_t nb);
void quant_avx2_quantize_q8_K(const float *x, struct block_q8_K *y, int64_t nb);
#endif

/* Scalar activation quantizers (quant_q8.c): the reference the AVX2 ones
 * reproduce bit for bit. */
void quant_ref_quantize_q8_0(const float *x, struct block_q8_0 *y, int64_t nb);
void quant_ref_quantize_q8_K(const float *x, struct block_q8_K *y, int64_t nb);

/* 6-bit scale j and min j of a Q4_K/Q5_K block's 12 packed scale bytes. */
static inline void quant_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* The 16 signed 6-bit scales of a Q3_K block (stored biased by 32, packed
 * as 16 low nibbles + 16 high bit pairs in 12 bytes). */
static inline void quant_q3k_scales(const uint8_t *packed, int8_t out[16])
{
	for (int j = 0; j < 16; j++) {
		int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
		int hi = (packed[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
		out[j] = (int8_t)((lo | (hi << 4)) - 32);
	}
}

/* 6-bit scale of sub-block ib (0..7) of an IQ4_XS block, unbiased. */
static inline int quant_iq4xs_scale(const struct block_iq4_xs *b, int ib)
{
	int lo = (b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
	int hi = (b->scales_h >> (2 * ib)) & 3;
	return (lo | (hi << 4)) - 32;
}

#endif
