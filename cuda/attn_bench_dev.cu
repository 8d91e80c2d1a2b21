// The decode attention kernel alone, timed on the device (cuda_testing.h,
// glm_cuda_bench_attention): what one layer's attention costs at a given
// depth, without the rest of the step around it.
#include "cuda/ops.cuh"
#include "cuda/kv_dev.cuh"
#include "cuda/cuda_testing.h"
#include <stdlib.h>
#include <string.h>

// x[i] = a deterministic value in [-1, 1)
static __global__ void fill_kernel(float *x, int64_t n, uint32_t seed)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
		uint32_t h = (uint32_t)i * 2654435761u ^ seed;
		h ^= h >> 15;
		h *= 2246822519u;
		h ^= h >> 13;
		x[i] = (float)(h & 0xFFFFFF) / 8388608.0f - 1.0f;
	}
}

static int fill(float *x, int64_t n, uint32_t seed, char *err, size_t errlen)
{
	fill_kernel<<<512, 256>>>(x, n, seed);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

extern "C" int glm_cuda_bench_attention(int G, int R, int Dr, int kv_type, int depth, int n_split, int warps,
                                        int n_layers, int reps, double *us, char *err, size_t errlen)
{
	const int D = R + Dr, Dk = 192 + Dr, rows = depth + 1;
	kv_layout L;
	kv_layout_init(&L, kv_type, R, Dr, 1000000.0f);
	int dev = 0;
	cudaGetDevice(&dev);
	cudaDeviceProp prop;
	if (CUDA_FAIL(cudaGetDeviceProperties(&prop, dev), err, errlen))
		return -1;
	if (n_split <= 0)
		n_split = prop.multiProcessorCount;
	float *ckv = NULL, *nw = NULL, *qabs = NULL, *q = NULL, *out = NULL, *work = NULL;
	int *pos = NULL, *zero = NULL;
	uint8_t **caches = (uint8_t **)calloc((size_t)n_layers, sizeof *caches);
	cudaGraph_t graph = NULL;
	cudaGraphExec_t exec = NULL;
	cudaStream_t s = NULL;
	cudaEvent_t e0 = NULL, e1 = NULL;
	int rc = -1;
	const size_t work_bytes = attn_work_bytes_fused(G, R, 1, n_split);
	if (!caches || CUDA_FAIL(cudaMalloc(&ckv, sizeof(float) * rows * D), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&nw, sizeof(float) * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&qabs, sizeof(float) * G * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&q, sizeof(float) * G * Dk), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&out, sizeof(float) * G * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&work, work_bytes), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&pos, sizeof(int) * 2), err, errlen))
		goto done;
	zero = pos + 1;
	if (fill(ckv, (int64_t)rows * D, 1, err, errlen) || fill(nw, R, 2, err, errlen) ||
	    fill(qabs, (int64_t)G * R, 3, err, errlen) || fill(q, (int64_t)G * Dk, 4, err, errlen))
		goto done;
	{
		const int hp[2] = {depth, 0};
		if (CUDA_FAIL(cudaMemcpy(pos, hp, sizeof hp, cudaMemcpyHostToDevice), err, errlen))
			goto done;
	}
	for (int l = 0; l < n_layers; l++) {
		if (CUDA_FAIL(cudaMalloc(&caches[l], L.row_bytes * (rows + 1)), err, errlen) ||
		    kv_store(ckv, D, nw, 1e-5f, rows, zero, &L, caches[l], 0, err, errlen))
			goto done;
	}
	if (CUDA_FAIL(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), err, errlen) ||
	    CUDA_FAIL(cudaEventCreate(&e0), err, errlen) || CUDA_FAIL(cudaEventCreate(&e1), err, errlen) ||
	    CUDA_FAIL(cudaDeviceSynchronize(), err, errlen))
		goto done;
	{
		attn_args a;
		memset(&a, 0, sizeof a);
		a.G = G;
		a.R = R;
		a.Dr = Dr;
		a.Dk = Dk;
		a.n = 1;
		a.pos = pos;
		a.qabs = qabs;
		a.q = q;
		a.scale = 0.05f;
		a.L = &L;
		a.out = out;
		a.work = work;
		a.work_bytes = work_bytes;
		a.n_split = n_split;
		a.decode_warps = warps;
		// one untimed run of each launch configuration (attributes, modules)
		a.cache = caches[0];
		if (attn_fused(&a, s, err, errlen) || CUDA_FAIL(cudaStreamSynchronize(s), err, errlen))
			goto done;
		if (CUDA_FAIL(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), err, errlen))
			goto done;
		for (int l = 0; l < n_layers; l++) {
			a.cache = caches[l];
			if (attn_fused(&a, s, err, errlen)) {
				cudaStreamEndCapture(s, &graph);
				goto done;
			}
		}
		if (CUDA_FAIL(cudaStreamEndCapture(s, &graph), err, errlen) ||
		    CUDA_FAIL(cudaGraphInstantiate(&exec, graph, 0), err, errlen))
			goto done;
		for (int r = -1; r < reps; r++) {
			float ms = 0;
			if (CUDA_FAIL(cudaEventRecord(e0, s), err, errlen) || CUDA_FAIL(cudaGraphLaunch(exec, s), err, errlen) ||
			    CUDA_FAIL(cudaEventRecord(e1, s), err, errlen) || CUDA_FAIL(cudaEventSynchronize(e1), err, errlen) ||
			    CUDA_FAIL(cudaEventElapsedTime(&ms, e0, e1), err, errlen))
				goto done;
			if (r >= 0)
				us[r] = 1000.0 * ms / n_layers;
		}
	}
	rc = 0;
done:
	if (exec)
		cudaGraphExecDestroy(exec);
	if (graph)
		cudaGraphDestroy(graph);
	if (e0)
		cudaEventDestroy(e0);
	if (e1)
		cudaEventDestroy(e1);
	if (s)
		cudaStreamDestroy(s);
	for (int l = 0; caches && l < n_layers; l++)
		cudaFree(caches[l]);
	free(caches);
	cudaFree(ckv);
	cudaFree(nw);
	cudaFree(qabs);
	cudaFree(q);
	cudaFree(out);
	cudaFree(work);
	cudaFree(pos);
	return rc;
}
