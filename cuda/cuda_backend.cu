// The CUDA backend's vtable and its creation: device choice, VRAM
// accounting before anything is allocated (with the largest context that
// would fit when the requested one does not), weight upload, cache and
// scratch allocation.
#include "cuda/cuda_internal.cuh"
#include <stdlib.h>
#include <string.h>

#define GIB (1024.0 * 1024.0 * 1024.0)
// cuBLAS workspace, the CUDA context's own allocations, graph memory
#define VRAM_MARGIN ((size_t)768 << 20)

extern "C" void glm_cuda_options_default(struct glm_cuda_options *o)
{
	memset(o, 0, sizeof *o);
	o->device = 0;
	o->gemm_min_batch = 16;
	o->use_graph = true;
	o->n_split = 0;
	o->exact = true;      /* int8 activations measured no faster yet, and 5-10x the error */
	o->pdl = true;        /* +3.4% on the H200 */
	o->pdl_early = true;  /* loads before the PDL wait (docs/PERF.md step 8) */
	o->fast_gemv = true;  /* decode 162 -> 243 tok/s (docs/PERF.md step 7) */
	o->mma_gemv = true;   /* Q4_K decode GEMVs on tensor cores (docs/PERF.md step 11) */
	o->attn_decode_warps = 16;   /* q8_0 cache at 32k +1.7%, f16 the same (step 11) */
}

static int cuda_fwd(struct glm_backend *gb, const int32_t *ids, int n, int64_t pos, float *logits, bool all_logits,
                    glm_atomic_int *cancel, char *err, size_t errlen)
{
	cuda_backend *b = (cuda_backend *)gb;
	if (cudaSetDevice(b->device) != cudaSuccess) {
		snprintf(err, errlen, "cuda: cannot select device %d", b->device);
		return -1;
	}
	return cuda_forward(b, ids, n, pos, logits, all_logits, cancel, err, errlen);
}

static void cuda_memory(struct glm_backend *gb, int64_t *used, int64_t *total)
{
	cuda_backend *b = (cuda_backend *)gb;
	size_t fr = 0, tot = 0;
	cudaSetDevice(b->device);
	if (cudaMemGetInfo(&fr, &tot) != cudaSuccess)
		tot = 0;
	*used = b->used_bytes;
	*total = (int64_t)tot;
}

static void cuda_free_backend(struct glm_backend *gb)
{
	cuda_backend *b = (cuda_backend *)gb;
	if (!b)
		return;
	cudaSetDevice(b->device);
	if (b->stream)
		cudaStreamSynchronize(b->stream);
	if (b->graph_ok)
		cudaGraphExecDestroy(b->graph);
	cudaFree(b->sbuf);
	cudaFree(b->cache);
	cudaFree(b->wbuf);
	cudaFreeHost(b->h_ids);
	cudaFreeHost(b->h_pos);
	cudaFreeHost(b->h_logits);
	if (b->cublas)
		cublasDestroy(b->cublas);
	if (b->stream)
		cudaStreamDestroy(b->stream);
	free(b->layers);
	free(b);
}

static const struct glm_backend_ops cuda_ops = {
	"cuda", cuda_fwd, cuda_memory, cuda_free_backend,
};

// Device memory the backend needs beside the cache, and per cache token.
static void vram_plan(const cuda_backend *b, const struct glm_model *m, int nb, size_t *fixed, size_t *per_tok)
{
	*fixed = cuda_weight_bytes(m) + cuda_scratch_bytes(b, nb) + VRAM_MARGIN;
	*per_tok = (size_t)b->hp.n_layer * b->kv.row_bytes;
}

extern "C" int glm_backend_cuda_create_ex(const struct glm_model *m, const struct glm_backend_config *cfg,
                                          const struct glm_cuda_options *opt, struct glm_backend **out,
                                          char *err, size_t errlen)
{
	*out = NULL;
	const struct glm_hparams *hp = &m->hp;
	struct glm_cuda_options defopt;
	if (!opt) {
		glm_cuda_options_default(&defopt);
		opt = &defopt;
	}
	if (glm_cuda_device_count() <= opt->device) {
		snprintf(err, errlen, "cuda: no CUDA device %d", opt->device);
		return -1;
	}
	if (hp->n_head == 0 || hp->kv_lora_rank == 0 || hp->n_embd_head_k != hp->n_embd_head_qk_nope + hp->n_rot ||
	    hp->n_rot % 2 || hp->n_rot > 64 || hp->n_embd % 4 || hp->q_lora_rank % 4 || hp->n_embd_head_k % 4 ||
	    hp->kv_lora_rank % 4 || hp->n_ff_exp % 4) {
		snprintf(err, errlen, "cuda: model shape not supported (heads %u, kv rank %u, head %u = %u + %u)",
		         hp->n_head, hp->kv_lora_rank, hp->n_embd_head_k, hp->n_embd_head_qk_nope, hp->n_rot);
		return -1;
	}
	cuda_backend *b = (cuda_backend *)calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "cuda: out of host memory");
		return -1;
	}
	b->base.ops = &cuda_ops;
	b->base.model = m;
	b->base.cfg = *cfg;
	b->opt = *opt;
	if (b->opt.gemm_min_batch < 2)
		b->opt.gemm_min_batch = 2;
	b->hp = *hp;
	b->device = opt->device;
	enum glm_kv_type kt = cfg->kv_type == GLM_KV_DEFAULT ? GLM_KV_F16 : cfg->kv_type;
	b->base.cfg.kv_type = kt;
	b->n_ctx = cfg->n_ctx > 0 ? cfg->n_ctx : (int64_t)hp->n_ctx_train;
	b->base.cfg.n_ctx = b->n_ctx;
	int nb = cfg->max_batch > 0 ? cfg->max_batch : 512;
	if (nb > 2048)
		nb = 2048;
	b->base.cfg.max_batch = nb;       // the engine splits prompts to what was allocated

	if (CUDA_FAIL(cudaSetDevice(b->device), err, errlen))
		goto fail;
	{
		cudaDeviceProp prop;
		if (CUDA_FAIL(cudaGetDeviceProperties(&prop, b->device), err, errlen))
			goto fail;
		b->n_sm = prop.multiProcessorCount;
		b->opt.pdl = opt->pdl && prop.major >= 9;
	}
	kv_layout_init(&b->kv, kt, (int)hp->kv_lora_rank, (int)hp->n_rot, hp->rope_freq_base);
	if (!b->kv.row_bytes) {
		snprintf(err, errlen, "cuda: cache type %d is not supported", (int)kt);
		goto fail;
	}
	b->fused = attn_fused_supported((int)hp->n_head, b->kv.R, b->kv.Dr, kt);
	/* the decode kernel: one block per SM in one wave (its shared memory
	 * allows no second); the general one: two per SM */
	b->n_split = opt->n_split > 0 ? opt->n_split : (opt->attn_decode_legacy ? 2 : 1) * b->n_sm;

	{
		size_t fr = 0, tot = 0, fixed, per_tok;
		if (CUDA_FAIL(cudaMemGetInfo(&fr, &tot), err, errlen))
			goto fail;
		vram_plan(b, m, nb, &fixed, &per_tok);
		const size_t need = fixed + per_tok * (size_t)b->n_ctx;
		if (need > fr) {
			if (fixed + per_tok * 256 > fr)
				snprintf(err, errlen, "cuda: the model needs %.2f GiB of device memory (weights, buffers); "
				         "%.2f GiB are free", fixed / GIB, fr / GIB);
			else
				snprintf(err, errlen, "cuda: a context of %lld tokens needs %.2f GiB of device memory, "
				         "%.2f GiB are free; the largest context that fits is %lld",
				         (long long)b->n_ctx, need / GIB, fr / GIB,
				         (long long)((fr - fixed) / per_tok / 256 * 256));
			goto fail;
		}
	}
	if (CUDA_FAIL(cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking), err, errlen))
		goto fail;
	if (cublasCreate(&b->cublas) != CUBLAS_STATUS_SUCCESS || cublasSetStream(b->cublas, b->stream) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cuda: cannot initialise cuBLAS");
		goto fail;
	}
	if (cuda_upload_weights(b, m, err, errlen))
		goto fail;
	{
		const size_t cb = (size_t)hp->n_layer * (size_t)b->n_ctx * b->kv.row_bytes;
		if (CUDA_FAIL(cudaMalloc(&b->cache, cb), err, errlen) || CUDA_FAIL(cudaMemset(b->cache, 0, cb), err, errlen))
			goto fail;
		if (cuda_scratch_init(b, nb, err, errlen))
			goto fail;
		b->used_bytes = (int64_t)(b->wbytes + cb + b->sbytes);
	}
	*out = &b->base;
	return 0;
fail:
	cuda_free_backend(&b->base);
	return -1;
}

extern "C" int glm_backend_cuda_create(const struct glm_model *m, const struct glm_backend_config *cfg,
                                       struct glm_backend **out, char *err, size_t errlen)
{
	return glm_backend_cuda_create_ex(m, cfg, NULL, out, err, errlen);
}
