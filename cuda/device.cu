// Device discovery: how many CUDA devices this process can use, and how
// many multiprocessors the current one has (kernels size their grids by it).
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

int cuda_sm_count(void)
{
	static int n[64];
	int dev = 0;
	cudaGetDevice(&dev);
	if (!n[dev & 63]) {
		int v = 0;
		cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev);
		n[dev & 63] = v > 0 ? v : 1;
	}
	return n[dev & 63];
}

int cuda_cc_major(void)
{
	static int n[64];
	int dev = 0;
	cudaGetDevice(&dev);
	if (!n[dev & 63]) {
		int v = 0;
		cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, dev);
		n[dev & 63] = v > 0 ? v : 1;
	}
	return n[dev & 63];
}
