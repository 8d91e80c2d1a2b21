/* IEEE half and bfloat16 <-> float32, exact, in portable C.
 *
 * Widening is exact for every input. Narrowing rounds to nearest, ties to
 * even, overflows to infinity and keeps subnormals (no flush to zero).
 * NaNs stay NaN with the quiet bit set and the top payload bits kept: the
 * same results as the F16C instructions, so the AVX2 paths agree bit for bit. */
#include "config.h"
#include <string.h>
#include "engine/quant.h"

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

float glm_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1F;
	uint32_t mant = h & 0x3FF;

	if (exp == 0x1F)		/* inf, or NaN made quiet */
		return bits_f32(sign | 0x7F800000 | (mant << 13) | (mant ? 0x400000 : 0));
	if (exp == 0) {
		if (!mant)
			return bits_f32(sign);
		/* subnormal: mant·2^-24, exact in float32 */
		float v = (float)mant * 0x1p-24f;
		return sign ? -v : v;
	}
	return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t glm_f32_to_f16(float f)
{
	uint32_t u = f32_bits(f);
	uint16_t sign = (u >> 16) & 0x8000;
	uint32_t a = u & 0x7FFFFFFF;

	if (a > 0x7F800000)		/* NaN: quiet, top 9 payload bits kept */
		return sign | 0x7E00 | ((a >> 13) & 0x3FF);
	if (a >= 0x477FF000)		/* rounds to beyond 65504: infinity */
		return sign | 0x7C00;
	if (a < 0x38800000) {		/* below the smallest normal half, 2^-14 */
		/* The result is a count of 2^-24 units: shift the 24-bit
		 * significand right and round to nearest even by hand. */
		int e = (int)(a >> 23);
		if (e < 102)		/* below 2^-25: rounds to zero */
			return sign;
		uint32_t m = (a & 0x7FFFFF) | 0x800000;
		int shift = 126 - e;	/* 14..24 */
		uint32_t q = m >> shift;
		uint32_t rem = m & ((1u << shift) - 1);
		uint32_t halfway = 1u << (shift - 1);
		if (rem > halfway || (rem == halfway && (q & 1)))
			q++;		/* may carry into the smallest normal: correct */
		return sign | (uint16_t)q;
	}
	/* normal: rebias and round the 13 dropped bits; a carry out of the
	 * mantissa correctly bumps the exponent (up to infinity). */
	uint32_t r = a - (112u << 23);
	r += 0xFFF + ((r >> 13) & 1);
	return sign | (uint16_t)(r >> 13);
}

float glm_bf16_to_f32(uint16_t h)
{
	return bits_f32((uint32_t)h << 16);
}

uint16_t glm_f32_to_bf16(float f)
{
	uint32_t u = f32_bits(f);

	if ((u & 0x7FFFFFFF) > 0x7F800000)
		return (uint16_t)((u >> 16) | 0x40);
	u += 0x7FFF + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}
