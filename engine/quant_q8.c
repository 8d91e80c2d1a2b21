/* The activation-quantized path, portable reference: quantize x into Q8_0
 * (32-value blocks) or Q8_K (256-value blocks), then dot weight blocks
 * against it in exact integer arithmetic with one float scale per block
 * (or sub-block). The AVX2 kernels reproduce these results up to the
 * order of the float additions; the quantizers bit for bit. */
#include "config.h"
#include <math.h>
#include "engine/quant.h"
#include "engine/quant_blocks.h"

#define H(x) glm_f16_to_f32(x)

/* Round half away from zero (ggml's roundf), clamped to the int8 range
 * first so a NaN or infinite input cannot make the conversion undefined. */
static int q8_round(float v)
{
	v = fminf(fmaxf(v, -127.0f), 127.0f);
	return (int)roundf(v);
}

static float block_amax(const float *x, int n)
{
	float amax = 0;

	for (int j = 0; j < n; j++) {
		float a = fabsf(x[j]);
		if (a > amax)		/* a NaN never wins */
			amax = a;
	}
	return amax;
}

/* ggml's quantize_row_q8_0_ref: d = amax/127, q = round(x/d); d stored as f16. */
void quant_ref_quantize_q8_0(const float *x, struct block_q8_0 *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, x += 32, y++) {
		const float d = block_amax(x, 32) / 127.0f;
		const float id = d != 0 ? 1.0f / d : 0.0f;
		for (int j = 0; j < 32; j++)
			y->qs[j] = (int8_t)q8_round(x[j] * id);
		y->d = glm_f32_to_f16(d);
	}
}

/* Q8_K the same way with a float32 scale, plus the sum of each 16 values. */
void quant_ref_quantize_q8_K(const float *x, struct block_q8_K *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, x += QK_K, y++) {
		const float d = block_amax(x, QK_K) / 127.0f;
		const float id = d != 0 ? 1.0f / d : 0.0f;
		for (int j = 0; j < QK_K; j++)
			y->qs[j] = (int8_t)q8_round(x[j] * id);
		for (int g = 0; g < QK_K / 16; g++) {
			int s = 0;
			for (int j = 0; j < 16; j++)
				s += y->qs[16 * g + j];
			y->bsums[g] = (int16_t)s;
		}
		y->d = d;
	}
}

/* Float weights take float activations: no quantization for them. */
float quant_ref_dot_q8_f32(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_f16(const void *w, const void *xq, int64_t nb);
float quant_ref_dot_q8_bf16(const void *w, const void *xq, int64_t nb);

float quant_ref_dot_q8_f32(const void *w, const void *xq, int64_t nb)
{
	return quant_scalar_kernels[GGML_TYPE_F32].dot_f32(w, xq, nb);
}

float quant_ref_dot_q8_f16(const void *w, const void *xq, int64_t nb)
{
	return quant_scalar_kernels[GGML_TYPE_F16].dot_f32(w, xq, nb);
}

float quant_ref_dot_q8_bf16(const void *w, const void *xq, int64_t nb)
{
	return quant_scalar_kernels[GGML_TYPE_BF16].dot_f32(w, xq, nb);
}

/* 32-value blocks against Q8_0. */

float quant_ref_dot_q8_q4_0(const void *w, const void *xq, int64_t nb)
{
	const struct block_q4_0 *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int s = 0;
		for (int j = 0; j < 16; j++)
			s += ((b->qs[j] & 0xF) - 8) * y->qs[j] + ((b->qs[j] >> 4) - 8) * y->qs[j + 16];
		sum += (H(b->d) * H(y->d)) * (float)s;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q4_1(const void *w, const void *xq, int64_t nb)
{
	const struct block_q4_1 *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int s = 0, sy = 0;
		for (int j = 0; j < 16; j++) {
			s += (b->qs[j] & 0xF) * y->qs[j] + (b->qs[j] >> 4) * y->qs[j + 16];
			sy += y->qs[j] + y->qs[j + 16];
		}
		const float dy = H(y->d);
		sum += (H(b->d) * dy) * (float)s + (H(b->m) * dy) * (float)sy;
	}
	return (float)sum;
}

static uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

float quant_ref_dot_q8_q5_0(const void *w, const void *xq, int64_t nb)
{
	const struct block_q5_0 *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		const uint32_t qh = load_u32(b->qh);
		int s = 0;
		for (int j = 0; j < 16; j++) {
			int q0 = ((b->qs[j] & 0xF) | ((qh >> j) & 1) << 4) - 16;
			int q1 = ((b->qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16;
			s += q0 * y->qs[j] + q1 * y->qs[j + 16];
		}
		sum += (H(b->d) * H(y->d)) * (float)s;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q5_1(const void *w, const void *xq, int64_t nb)
{
	const struct block_q5_1 *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		const uint32_t qh = load_u32(b->qh);
		int s = 0, sy = 0;
		for (int j = 0; j < 16; j++) {
			int q0 = (b->qs[j] & 0xF) | ((qh >> j) & 1) << 4;
			int q1 = (b->qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
			s += q0 * y->qs[j] + q1 * y->qs[j + 16];
			sy += y->qs[j] + y->qs[j + 16];
		}
		const float dy = H(y->d);
		sum += (H(b->d) * dy) * (float)s + (H(b->m) * dy) * (float)sy;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q8_0(const void *w, const void *xq, int64_t nb)
{
	const struct block_q8_0 *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int s = 0;
		for (int j = 0; j < 32; j++)
			s += b->qs[j] * y->qs[j];
		sum += (H(b->d) * H(y->d)) * (float)s;
	}
	return (float)sum;
}

float quant_ref_dot_q8_iq4_nl(const void *w, const void *xq, int64_t nb)
{
	const struct block_iq4_nl *b = w;
	const struct block_q8_0 *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int s = 0;
		for (int j = 0; j < 16; j++)
			s += quant_iq4nl_values[b->qs[j] & 0xF] * y->qs[j] +
			     quant_iq4nl_values[b->qs[j] >> 4] * y->qs[j + 16];
		sum += (H(b->d) * H(y->d)) * (float)s;
	}
	return (float)sum;
}

/* 256-value super-blocks against Q8_K. The minimums (Q2_K, Q4_K, Q5_K)
 * multiply the activation's 16-value sums instead of every value. */

float quant_ref_dot_q8_q2_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q2_K *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int isum = 0, msum = 0;
		for (int g = 0; g < 16; g++) {
			/* group g: half g/8, shift 2·((g%8)/2), bytes 16·(g%2).. */
			const uint8_t *q = b->qs + 32 * (g / 8) + 16 * (g % 2);
			const int shift = 2 * ((g % 8) / 2);
			const int8_t *yq = y->qs + 16 * g;
			int s = 0;
			for (int l = 0; l < 16; l++)
				s += ((q[l] >> shift) & 3) * yq[l];
			isum += (b->scales[g] & 0xF) * s;
			msum += (b->scales[g] >> 4) * y->bsums[g];
		}
		sum += (H(b->d) * y->d) * (float)isum - (H(b->dmin) * y->d) * (float)msum;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q3_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q3_K *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int8_t sc[16];
		int isum = 0;
		quant_q3k_scales(b->scales, sc);
		for (int g = 0; g < 16; g++) {
			const int k = 16 * (g % 2);
			const uint8_t *q = b->qs + 32 * (g / 8) + k;
			const int shift = 2 * ((g % 8) / 2);
			const uint8_t m = (uint8_t)(1u << (g / 2));
			const int8_t *yq = y->qs + 16 * g;
			int s = 0;
			for (int l = 0; l < 16; l++) {
				int v = ((q[l] >> shift) & 3) - ((b->hmask[k + l] & m) ? 0 : 4);
				s += v * yq[l];
			}
			isum += sc[g] * s;
		}
		sum += (H(b->d) * y->d) * (float)isum;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q4_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q4_K *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int isum = 0, msum = 0;
		for (int j = 0; j < 8; j++) {
			const uint8_t *q = b->qs + 32 * (j / 2);
			const int shift = 4 * (j % 2);
			const int8_t *yq = y->qs + 32 * j;
			uint8_t sc, m;
			int s = 0;
			quant_k4_scale_min(j, b->scales, &sc, &m);
			for (int l = 0; l < 32; l++)
				s += ((q[l] >> shift) & 0xF) * yq[l];
			isum += sc * s;
			msum += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
		}
		sum += (H(b->d) * y->d) * (float)isum - (H(b->dmin) * y->d) * (float)msum;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q5_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q5_K *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int isum = 0, msum = 0;
		for (int j = 0; j < 8; j++) {
			const uint8_t *q = b->qs + 32 * (j / 2);
			const int shift = 4 * (j % 2);
			const int8_t *yq = y->qs + 32 * j;
			uint8_t sc, m;
			int s = 0;
			quant_k4_scale_min(j, b->scales, &sc, &m);
			for (int l = 0; l < 32; l++)
				s += (((q[l] >> shift) & 0xF) | ((b->qh[l] >> j) & 1) << 4) * yq[l];
			isum += sc * s;
			msum += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
		}
		sum += (H(b->d) * y->d) * (float)isum - (H(b->dmin) * y->d) * (float)msum;
	}
	return (float)sum;
}

float quant_ref_dot_q8_q6_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q6_K *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int isum = 0;
		for (int half = 0; half < 2; half++) {
			const uint8_t *ql = b->ql + 64 * half, *qh = b->qh + 32 * half;
			const int8_t *sc = b->scales + 8 * half;
			const int8_t *yq = y->qs + 128 * half;
			int s[8] = {0};
			for (int l = 0; l < 32; l++) {
				int is = l / 16;
				int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
				int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
				int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
				int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
				s[is + 0] += q1 * yq[l];
				s[is + 2] += q2 * yq[l + 32];
				s[is + 4] += q3 * yq[l + 64];
				s[is + 6] += q4 * yq[l + 96];
			}
			for (int k = 0; k < 8; k++)
				isum += sc[k] * s[k];
		}
		sum += (H(b->d) * y->d) * (float)isum;
	}
	return (float)sum;
}

float quant_ref_dot_q8_iq4_xs(const void *w, const void *xq, int64_t nb)
{
	const struct block_iq4_xs *b = w;
	const struct block_q8_K *y = xq;
	double sum = 0;

	for (int64_t i = 0; i < nb; i++, b++, y++) {
		int isum = 0;
		for (int ib = 0; ib < 8; ib++) {
			const uint8_t *qs = b->qs + 16 * ib;
			const int8_t *yq = y->qs + 32 * ib;
			int s = 0;
			for (int j = 0; j < 16; j++)
				s += quant_iq4nl_values[qs[j] & 0xF] * yq[j] +
				     quant_iq4nl_values[qs[j] >> 4] * yq[j + 16];
			isum += quant_iq4xs_scale(b, ib) * s;
		}
		sum += (H(b->d) * y->d) * (float)isum;
	}
	return (float)sum;
}
