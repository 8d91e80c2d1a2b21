// Sampling on the device. Greedy for now: the index of the largest logit
// (the lowest index on ties, as the CPU sampler does).
#include "cuda/ops.cuh"
#include <math.h>

static __global__ void argmax_kernel(const float *x, int n, int *out)
{
	__shared__ float bv[32];
	__shared__ int bi[32];
	float best = -INFINITY;
	int idx = n;
	for (int i = threadIdx.x; i < n; i += blockDim.x)
		if (x[i] > best) {
			best = x[i];
			idx = i;
		}
	for (int o = 16; o > 0; o >>= 1) {
		const float ob = __shfl_xor_sync(0xffffffffu, best, o);
		const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
		if (ob > best || (ob == best && oi < idx)) {
			best = ob;
			idx = oi;
		}
	}
	if (threadIdx.x % WARP == 0) {
		bv[threadIdx.x / WARP] = best;
		bi[threadIdx.x / WARP] = idx;
	}
	__syncthreads();
	if (threadIdx.x == 0) {
		for (int w = 1; w < (int)(blockDim.x / WARP); w++)
			if (bv[w] > best || (bv[w] == best && bi[w] < idx)) {
				best = bv[w];
				idx = bi[w];
			}
		*out = idx < n ? idx : 0;
	}
}

int argmax_launch(const float *x, int n, int *out, cudaStream_t s, char *err, size_t errlen)
{
	argmax_kernel<<<1, 1024, 0, s>>>(x, n, out);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}
