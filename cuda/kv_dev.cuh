// Reading the latent cache on the device. The ids equal enum glm_kv_type.
#ifndef GLM_CUDA_KV_DEV_CUH
#define GLM_CUDA_KV_DEV_CUH

#include "cuda/common.cuh"

enum { KV_F32 = 0, KV_F16 = 1, KV_BF16 = 2, KV_Q8_0 = 3 };

// value k of a cache row, as f32
template <int KT> static __device__ __forceinline__ float kv_get(const uint8_t *row, int k)
{
	if (KT == KV_F32)
		return ((const float *)row)[k];
	if (KT == KV_F16)
		return h2f(((const uint16_t *)row)[k]);
	if (KT == KV_BF16)
		return bf2f(((const uint16_t *)row)[k]);
	const uint8_t *b = row + 34 * (k >> 5);
	return h2f(*(const uint16_t *)b) * (float)(int8_t)b[2 + (k & 31)];
}

// values 8c .. 8c+7 of a cache row as four half2 (f16 pairs), for the
// tensor-core path: f16 rows are copied, bf16 converted, q8_0 scaled here,
// inside the attention loop, so the quantised cache only ever costs its
// own bytes.
template <int KT> static __device__ __forceinline__ uint4 kv_get8_h(const uint8_t *row, int c)
{
	if (KT == KV_F16)
		return *(const uint4 *)(row + 16 * c);
	uint4 out;
	__half2 *o = (__half2 *)&out;
	if (KT == KV_BF16) {
		uint4 v = *(const uint4 *)(row + 16 * c);
		const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
		for (int i = 0; i < 4; i++)
			o[i] = __floats2half2_rn(bf2f(w[i] & 0xFFFF), bf2f(w[i] >> 16));
		return out;
	}
	if (KT == KV_Q8_0) {
		const uint8_t *b = row + 34 * (c >> 2);
		const float d = h2f(*(const uint16_t *)b);
		const uint16_t *q = (const uint16_t *)(b + 2 + 8 * (c & 3));
#pragma unroll
		for (int i = 0; i < 4; i++) {
			const uint16_t pr = q[i];
			o[i] = __floats2half2_rn(d * (float)(int8_t)(pr & 0xFF), d * (float)(int8_t)(pr >> 8));
		}
		return out;
	}
	// f32
	const float4 a = *(const float4 *)(row + 32 * c), b = *(const float4 *)(row + 32 * c + 16);
	o[0] = __floats2half2_rn(a.x, a.y);
	o[1] = __floats2half2_rn(a.z, a.w);
	o[2] = __floats2half2_rn(b.x, b.y);
	o[3] = __floats2half2_rn(b.z, b.w);
	return out;
}

#endif
