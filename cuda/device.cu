// Device discovery: how many CUDA devices this process can use.
#include <cuda_runtime.h>
#include "cuda/cuda_backend.h"

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
