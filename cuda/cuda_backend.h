/* The CUDA backend's one plain-C entry point (issue 5). */
#ifndef GLM_CUDA_BACKEND_H
#define GLM_CUDA_BACKEND_H

#include "engine/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices (0 when none or no driver). */
int glm_cuda_device_count(void);
int glm_backend_cuda_create(const struct glm_model *m, const struct glm_backend_config *cfg,
                            struct glm_backend **out, char *err, size_t errlen);

/* Knobs for tests and benchmarks; glm_backend_cuda_create uses the defaults. */
struct glm_cuda_options {
	int device;              /* CUDA device index (0) */
	int gemm_min_batch;      /* batches of at least this many tokens take the
	                            dequantize + tensor-core GEMM path (16); smaller
	                            ones the exact f32 GEMV path */
	bool use_graph;          /* replay the decode step as a CUDA graph (true) */
	int n_split;             /* decode attention KV splits at most (0: one per
	                            multiprocessor; with attn_decode_legacy two) */
	bool exact;              /* f32 activations in every GEMV (true); false: int8
	                            activations with dp4a where the weight type
	                            allows, as llama.cpp's mmvq (~5e-2 on logits) */
	bool fast_gemv;          /* decode GEMVs of Q4_K, Q5_K, Q6_K and Q8_0 rows take the
	                            kernel of cuda/gemv_fast.cu (true; false: gemv.cu's) */
	bool pdl;                /* programmatic dependent launch between the decode
	                            kernels (true; sm_90+, ignored before) */
	bool pdl_early;          /* with pdl: the fast GEMVs load their weights and the
	                            decode attention its first KV tile before waiting
	                            for the kernel before them (true) */
	bool mma_gemv;           /* decode GEMVs of Q4_K rows on tensor cores with
	                            split f16 activations (cuda/gemv_mma.cu) */
	bool mma_gemv_q6k;       /* with mma_gemv, Q6_K rows too (false: slower so
	                            far, docs/PERF.md step 11) */
	int gemv_warps_per_sm;   /* the fast GEMV takes the most pieces per lane that
	                            still give this many warps per multiprocessor (0:
	                            its own default, 16; docs/PERF.md step 10) */
	int attn_decode_warps;   /* warps per block of the decode attention kernel:
	                            16 (GLM's cache shape; the default) or 8 */
	bool attn_decode_legacy; /* decode attention through the general fused kernel
	                            (q_prep, 32-row tiles, two blocks per SM, reduce
	                            over every split) instead of the decode kernel
	                            (false; docs/PERF.md step 7) */
};
void glm_cuda_options_default(struct glm_cuda_options *o);
int glm_backend_cuda_create_ex(const struct glm_model *m, const struct glm_backend_config *cfg,
                               const struct glm_cuda_options *opt, struct glm_backend **out,
                               char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
