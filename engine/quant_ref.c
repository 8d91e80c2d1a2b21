/* Portable reference dequantization of every supported type, and the
 * float-activation dot products built on it. These formulas, including the
 * order of the float operations, are ggml's: the results are bit-exact
 * with ggml (and with the reference fixtures). Every other path is
 * checked against this file. */
#include "config.h"
#include <string.h>
#include "engine/quant.h"
#include "engine/quant_blocks.h"

#define H(x) glm_f16_to_f32(x)

const int8_t quant_iq4nl_values[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

static void deq_f32(const void *w, float *y, int64_t n)
{
	memcpy(y, w, (size_t)n * sizeof(float));
}

static void deq_f16(const void *w, float *y, int64_t n)
{
	const uint16_t *h = w;

	for (int64_t i = 0; i < n; i++)
		y[i] = glm_f16_to_f32(h[i]);
}

static void deq_bf16(const void *w, float *y, int64_t n)
{
	const uint16_t *h = w;

	for (int64_t i = 0; i < n; i++)
		y[i] = glm_bf16_to_f32(h[i]);
}

static void deq_q4_0(const void *w, float *y, int64_t nb)
{
	const struct block_q4_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d);
		for (int j = 0; j < 16; j++) {
			y[j] = ((b->qs[j] & 0xF) - 8) * d;
			y[j + 16] = ((b->qs[j] >> 4) - 8) * d;
		}
	}
}

static void deq_q4_1(const void *w, float *y, int64_t nb)
{
	const struct block_q4_1 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d), m = H(b->m);
		for (int j = 0; j < 16; j++) {
			y[j] = (b->qs[j] & 0xF) * d + m;
			y[j + 16] = (b->qs[j] >> 4) * d + m;
		}
	}
}

static uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void deq_q5_0(const void *w, float *y, int64_t nb)
{
	const struct block_q5_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d);
		const uint32_t qh = load_u32(b->qh);
		for (int j = 0; j < 16; j++) {
			int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
			y[j] = (((b->qs[j] & 0xF) | h0 << 4) - 16) * d;
			y[j + 16] = (((b->qs[j] >> 4) | h1 << 4) - 16) * d;
		}
	}
}

static void deq_q5_1(const void *w, float *y, int64_t nb)
{
	const struct block_q5_1 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d), m = H(b->m);
		const uint32_t qh = load_u32(b->qh);
		for (int j = 0; j < 16; j++) {
			int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
			y[j] = ((b->qs[j] & 0xF) | h0 << 4) * d + m;
			y[j + 16] = ((b->qs[j] >> 4) | h1 << 4) * d + m;
		}
	}
}

static void deq_q8_0(const void *w, float *y, int64_t nb)
{
	const struct block_q8_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d);
		for (int j = 0; j < 32; j++)
			y[j] = b->qs[j] * d;
	}
}

static void deq_iq4_nl(const void *w, float *y, int64_t nb)
{
	const struct block_iq4_nl *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		const float d = H(b->d);
		for (int j = 0; j < 16; j++) {
			y[j] = d * quant_iq4nl_values[b->qs[j] & 0xF];
			y[j + 16] = d * quant_iq4nl_values[b->qs[j] >> 4];
		}
	}
}

/* Q2_K: 16 sub-blocks of 16, each with a 4-bit scale and 4-bit min;
 * value = d·sc·q − dmin·m with q 2 bits. Bytes hold 4 sub-blocks' values
 * at shifts 0,2,4,6 over each 32-byte half. */
static void deq_q2_K(const void *w, float *y, int64_t nb)
{
	const struct block_q2_K *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = H(b->d), dmin = H(b->dmin);
		const uint8_t *q = b->qs;
		int is = 0;
		for (int half = 0; half < 2; half++, q += 32) {
			for (int shift = 0; shift < 8; shift += 2) {
				for (int k = 0; k < 2; k++) {
					uint8_t sc = b->scales[is++];
					float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
					for (int l = 0; l < 16; l++)
						*y++ = dl * ((q[l + 16 * k] >> shift) & 3) - ml;
				}
			}
		}
	}
}

/* Q3_K: 16 sub-blocks of 16 with signed 6-bit scales; q = 2 low bits
 * minus 4 when the hmask bit is clear. */
static void deq_q3_K(const void *w, float *y, int64_t nb)
{
	const struct block_q3_K *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d_all = H(b->d);
		int8_t sc[16];
		quant_q3k_scales(b->scales, sc);
		const uint8_t *q = b->qs;
		uint8_t m = 1;
		int is = 0;
		for (int half = 0; half < 2; half++, q += 32) {
			for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
				for (int k = 0; k < 2; k++) {
					float dl = d_all * sc[is++];
					for (int l = 16 * k; l < 16 * k + 16; l++) {
						int v = ((q[l] >> shift) & 3) - ((b->hmask[l] & m) ? 0 : 4);
						*y++ = dl * v;
					}
				}
			}
		}
	}
}

/* Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins. */
static void deq_q4_K(const void *w, float *y, int64_t nb)
{
	const struct block_q4_K *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = H(b->d), dmin = H(b->dmin);
		const uint8_t *q = b->qs;
		for (int j = 0; j < 8; j += 2, q += 32) {
			uint8_t sc, m;
			quant_k4_scale_min(j, b->scales, &sc, &m);
			const float d1 = d * sc, m1 = dmin * m;
			quant_k4_scale_min(j + 1, b->scales, &sc, &m);
			const float d2 = d * sc, m2 = dmin * m;
			for (int l = 0; l < 32; l++)
				*y++ = d1 * (q[l] & 0xF) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (q[l] >> 4) - m2;
		}
	}
}

/* Q5_K: Q4_K plus a fifth bit per value from qh (bit j of byte l is
 * sub-block j's value l). */
static void deq_q5_K(const void *w, float *y, int64_t nb)
{
	const struct block_q5_K *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = H(b->d), dmin = H(b->dmin);
		const uint8_t *ql = b->qs;
		for (int j = 0; j < 8; j += 2, ql += 32) {
			uint8_t sc, m;
			quant_k4_scale_min(j, b->scales, &sc, &m);
			const float d1 = d * sc, m1 = dmin * m;
			quant_k4_scale_min(j + 1, b->scales, &sc, &m);
			const float d2 = d * sc, m2 = dmin * m;
			for (int l = 0; l < 32; l++)
				*y++ = d1 * ((ql[l] & 0xF) + (((b->qh[l] >> j) & 1) << 4)) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * ((ql[l] >> 4) + (((b->qh[l] >> (j + 1)) & 1) << 4)) - m2;
		}
	}
}

/* Q6_K: 16 sub-blocks of 16 with int8 scales; q = 4 low bits (ql) and 2
 * high bits (qh), minus 32. Each 128-value half interleaves 4 quarters. */
static void deq_q6_K(const void *w, float *y, int64_t nb)
{
	const struct block_q6_K *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = H(b->d);
		const uint8_t *ql = b->ql, *qh = b->qh;
		const int8_t *sc = b->scales;
		for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {
			for (int l = 0; l < 32; l++) {
				int is = l / 16;
				int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
				int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
				int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
				int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
				y[l] = d * sc[is + 0] * q1;
				y[l + 32] = d * sc[is + 2] * q2;
				y[l + 64] = d * sc[is + 4] * q3;
				y[l + 96] = d * sc[is + 6] * q4;
			}
		}
	}
}

/* IQ4_XS: 8 sub-blocks of 32, 6-bit scales, IQ4_NL levels. */
static void deq_iq4_xs(const void *w, float *y, int64_t nb)
{
	const struct block_iq4_xs *b = w;

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = H(b->d);
		const uint8_t *qs = b->qs;
		for (int ib = 0; ib < 8; ib++, qs += 16, y += 32) {
			const float dl = d * quant_iq4xs_scale(b, ib);
			for (int j = 0; j < 16; j++) {
				y[j] = dl * quant_iq4nl_values[qs[j] & 0xF];
				y[j + 16] = dl * quant_iq4nl_values[qs[j] >> 4];
			}
		}
	}
}

/* Float dots: dequantize a few blocks into a buffer, multiply-add in
 * float32 within each 256-value chunk, and carry the sum in float64. */
static float dot_chunked(void (*deq)(const void *, float *, int64_t), size_t block_bytes,
			 int block_elems, const void *w, const float *x, int64_t nb)
{
	const int per = 256 / block_elems;
	float buf[256];
	double sum = 0;

	for (int64_t i = 0; i < nb; i += per) {
		int k = nb - i < per ? (int)(nb - i) : per;
		int n = k * block_elems;
		float acc = 0;
		deq((const uint8_t *)w + (size_t)i * block_bytes, buf, k);
		for (int j = 0; j < n; j++)
			acc += buf[j] * x[j];
		sum += acc;
		x += n;
	}
	return (float)sum;
}

#define DOT_F32(name, deq, type, elems) \
static float name(const void *w, const float *x, int64_t nb) \
{ \
	return dot_chunked(deq, sizeof(type), elems, w, x, nb); \
}

DOT_F32(dot_f32_f32, deq_f32, float, 1)
DOT_F32(dot_f32_f16, deq_f16, uint16_t, 1)
DOT_F32(dot_f32_bf16, deq_bf16, uint16_t, 1)
DOT_F32(dot_f32_q4_0, deq_q4_0, struct block_q4_0, 32)
DOT_F32(dot_f32_q4_1, deq_q4_1, struct block_q4_1, 32)
DOT_F32(dot_f32_q5_0, deq_q5_0, struct block_q5_0, 32)
DOT_F32(dot_f32_q5_1, deq_q5_1, struct block_q5_1, 32)
DOT_F32(dot_f32_q8_0, deq_q8_0, struct block_q8_0, 32)
DOT_F32(dot_f32_iq4_nl, deq_iq4_nl, struct block_iq4_nl, 32)
DOT_F32(dot_f32_q2_K, deq_q2_K, struct block_q2_K, QK_K)
DOT_F32(dot_f32_q3_K, deq_q3_K, struct block_q3_K, QK_K)
DOT_F32(dot_f32_q4_K, deq_q4_K, struct block_q4_K, QK_K)
DOT_F32(dot_f32_q5_K, deq_q5_K, struct block_q5_K, QK_K)
DOT_F32(dot_f32_q6_K, deq_q6_K, struct block_q6_K, QK_K)
DOT_F32(dot_f32_iq4_xs, deq_iq4_xs, struct block_iq4_xs, QK_K)

/* The integer dots against quantized activations live in quant_q8.c. */
float quant_ref_dot_q8_f32(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_f16(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_bf16(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q4_0(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q4_1(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q5_0(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q5_1(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q8_0(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_iq4_nl(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q2_K(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q3_K(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q4_K(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q5_K(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_q6_K(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_iq4_xs(const void *w, const void *xq, int64_t nb);

#define K(t, name) [GGML_TYPE_##t] = { deq_##name, dot_f32_##name, quant_ref_dot_q8_##name }

const struct quant_kernels quant_scalar_kernels[GGML_TYPE_COUNT] = {
	K(F32, f32), K(F16, f16), K(BF16, bf16),
	K(Q4_0, q4_0), K(Q4_1, q4_1), K(Q5_0, q5_0), K(Q5_1, q5_1), K(Q8_0, q8_0),
	K(Q2_K, q2_K), K(Q3_K, q3_K), K(Q4_K, q4_K), K(Q5_K, q5_K), K(Q6_K, q6_K),
	K(IQ4_NL, iq4_nl), K(IQ4_XS, iq4_xs),
};
