// Shared by every .cu file of the CUDA backend: error checks that report
// through an err buffer (the backend never prints and never exits), small
// numeric helpers, and the launch-size constants.
#ifndef GLM_CUDA_COMMON_CUH
#define GLM_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

extern "C" {
#include "engine/ggml_types.h"
}

// One line "cuda: what failed (where): why" into err; evaluates to the
// condition so callers write `if (CUDA_FAIL(cudaMalloc(...), err, errlen)) return -1;`.
static inline bool cuda_fail(cudaError_t e, const char *what, const char *file, int line,
                             char *err, size_t errlen)
{
	if (e == cudaSuccess)
		return false;
	if (err && errlen)
		snprintf(err, errlen, "cuda: %s (%s:%d): %s", what, file, line, cudaGetErrorString(e));
	return true;
}
#define CUDA_FAIL(call, err, errlen) cuda_fail((call), #call, __FILE__, __LINE__, (err), (errlen))
// The last launch's error (bad configuration, missing kernel image).
#define LAUNCH_FAIL(err, errlen) cuda_fail(cudaGetLastError(), "kernel launch", __FILE__, __LINE__, (err), (errlen))

static inline __host__ __device__ int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Programmatic dependent launch (sm_90+, glm_cuda_options.pdl): a kernel
// launched through launch_k may be scheduled while the kernel before it in
// the stream is still draining its last blocks, which hides most of the
// launch gap between the ~16 dependent kernels of a decode layer. Such a
// kernel must call pdl_begin() in every block before touching memory that
// earlier kernels write: it waits until the previous kernel has completed
// and its writes are visible (so ordering stays transitive along the
// stream), then lets the next kernel start launching. Without the
// attribute, or before sm_90, both are no-ops.
// What may come before the wait: data no kernel of the step writes (the
// weights), and data written two or more launches back. Kernel N launches
// only once every block of N-1 has passed its wait, which returns only
// after N-2 completed; so at N's start N-2 and everything before it are
// done and their writes are in L2 (read them with L2 loads, not L1).
// The switch is process-wide, set by each forward call from its backend.
extern bool glm_cuda_pdl_on;
// multiprocessors of the current device (cached per device; device.cu)
int cuda_sm_count(void);
// compute capability major of the current device (cached; device.cu)
int cuda_cc_major(void);
// shared memory one block may opt in to on the current device (cached)
int cuda_smem_optin(void);
static __device__ __forceinline__ void pdl_begin(void)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
	asm volatile("griddepcontrol.wait;" ::: "memory");
	asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
template <typename... KA, typename... A>
static inline cudaError_t launch_k(void (*k)(KA...), dim3 grid, dim3 block, size_t smem, cudaStream_t s, A &&...args)
{
	cudaLaunchConfig_t c = {};
	cudaLaunchAttribute at[1];
	c.gridDim = grid;
	c.blockDim = block;
	c.dynamicSmemBytes = smem;
	c.stream = s;
	at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
	at[0].val.programmaticStreamSerializationAllowed = 1;
	c.attrs = at;
	c.numAttrs = glm_cuda_pdl_on ? 1 : 0;
	return cudaLaunchKernelEx(&c, k, static_cast<A &&>(args)...);
}

#define WARP 32

static __device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

static __device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

static __device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }

// f16 stores saturate: an activation past 65504 becomes the largest half
// instead of inf (which would poison a whole GEMM row).
static __device__ __forceinline__ __half f2h_sat(float x)
{
	x = fminf(fmaxf(x, -65504.0f), 65504.0f);
	return __float2half_rn(x);
}

static __device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
static __device__ __forceinline__ float bf2f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

// RoPE on adjacent pairs (x[2i], x[2i+1]) by angle pos·inv_freq (inv_freq =
// base^(-2i/d), from a double table). The angle is formed and reduced
// modulo 2π in double (at positions near 200k a float angle is off by
// ~0.01 rad), then sin/cos in float on the reduced angle.
static __device__ __forceinline__ void rope_pair(float *x0, float *x1, double inv_freq, double pos)
{
	const double two_pi = 6.283185307179586;
	const double ang = pos * inv_freq;
	// (a multiply by 1/2π: a double division is a long subroutine, and this
	// runs on the critical path of every decode attention block's prologue)
	const float r = (float)(ang - rint(ang * (1.0 / two_pi)) * two_pi);
	float s, c;
	sincosf(r, &s, &c);
	const float a = *x0, b = *x1;
	*x0 = a * c - b * s;
	*x1 = b * c + a * s;
}

#endif
