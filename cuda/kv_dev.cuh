// Reading the latent cache on the device. The ids equal enum glm_kv_type.
#ifndef GLM_CUDA_KV_DEV_CUH
#define GLM_CUDA_KV_DEV_CUH

#include "cuda/common.cuh"

enum { KV_F32 = 0, KV_F16 = 1, KV_BF16 = 2, KV_Q8_0 = 3 };

// value k of a cache row, as f32 (q8_0: quants + 128, then the scales from
// byte row_vals on; see kv_layout in ops.cuh)
template <int KT> static __device__ __forceinline__ float kv_get(const uint8_t *row, int k, int row_vals)
{
	if (KT == KV_F32)
		return ((const float *)row)[k];
	if (KT == KV_F16)
		return h2f(((const uint16_t *)row)[k]);
	if (KT == KV_BF16)
		return bf2f(((const uint16_t *)row)[k]);
	return h2f(((const uint16_t *)(row + row_vals))[k >> 5]) * (float)((int)row[k] - 128);
}

#endif
