// Device discovery: how many CUDA devices this process can use, how many
// multiprocessors the current one has and its compute capability (kernels
// size their grids and choose their instructions by them).
#include <cuda_runtime.h>
#include "cuda/cuda_backend.h"
#include "cuda/common.cuh"

// common.cuh: programmatic dependent launch for the kernels that support it
bool glm_cuda_pdl_on = false;

extern "C" int glm_cuda_device_count(void)
{
	int n = 0;

	// No driver or no device is an ordinary answer (CPU fallback), not an error.
	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		cudaGetLastError();
		return 0;
	}
	return n;
}

// an attribute of the current device, asked once per device (cache: one
// slot per device, 0 until asked; a failed query counts as 1)
static int cached_attr(enum cudaDeviceAttr what, int (&cache)[64])
{
	int dev = 0;
	cudaGetDevice(&dev);
	if (!cache[dev & 63]) {
		int v = 0;
		cudaDeviceGetAttribute(&v, what, dev);
		cache[dev & 63] = v > 0 ? v : 1;
	}
	return cache[dev & 63];
}

int cuda_sm_count(void)
{
	static int n[64];
	return cached_attr(cudaDevAttrMultiProcessorCount, n);
}

int cuda_cc_major(void)
{
	static int n[64];
	return cached_attr(cudaDevAttrComputeCapabilityMajor, n);
}

int cuda_smem_optin(void)
{
	static int n[64];
	return cached_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin, n);
}
