/* The backend interface: a small vtable the engine drives. A backend owns
 * its copy of the weights (or reads the mapping), the latent KV cache and
 * whatever scratch memory it needs. The CPU backend is the reference; the
 * CUDA backend (cuda/cuda_backend.h) is tested against it. */
#ifndef GLM_BACKEND_H
#define GLM_BACKEND_H

#include "engine/model.h"

/* A cancellation flag shared by C and the CUDA C++ code. */
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<int> glm_atomic_int;
#else
#include <stdatomic.h>
typedef atomic_int glm_atomic_int;
#endif

enum glm_kv_type { GLM_KV_DEFAULT = -1, GLM_KV_F32 = 0, GLM_KV_F16 = 1, GLM_KV_BF16 = 2, GLM_KV_Q8_0 = 3 };

const char *glm_kv_type_name(enum glm_kv_type t);          /* "f16" */
int  glm_kv_type_parse(const char *s, enum glm_kv_type *out); /* 0 ok, -1 unknown */
/* Bytes of latent cache per token of context (all layers, 576 values each). */
uint64_t glm_kv_bytes_per_token(const struct glm_hparams *hp, enum glm_kv_type t);

struct glm_backend_config {
	enum glm_kv_type kv_type;
	int64_t n_ctx;               /* cache capacity in tokens */
	int n_threads;               /* CPU threads (CPU backend) */
	bool flash_attn;             /* CUDA: fused MLA flash attention (default) or the plain path */
	int max_batch;               /* most tokens per forward call the backend must accept */
	bool q8_activations;         /* CPU: dot quantized weights with q8-quantized activations
	                              * (faster decode; ~2e-2 from the f32 reference). Default off */
};

struct glm_backend;

struct glm_backend_ops {
	const char *name;            /* "cpu", "cuda" */
	/* Evaluate n tokens at positions pos..pos+n-1, writing their latent rows
	 * into the cache (rows at >= pos are overwritten: this is how a turn
	 * rewinds). logits: NULL for none, else n_vocab floats for the last
	 * token, or n × n_vocab when all_logits. cancel is polled between layers;
	 * when set the call returns 1 with the cache rows past pos undefined. */
	int (*forward)(struct glm_backend *b, const int32_t *ids, int n, int64_t pos,
	               float *logits, bool all_logits, glm_atomic_int *cancel,
	               char *err, size_t errlen);
	/* Memory the backend holds and the device total (RAM on the CPU). */
	void (*memory)(struct glm_backend *b, int64_t *used, int64_t *total);
	void (*free)(struct glm_backend *b);
};

struct glm_backend {
	const struct glm_backend_ops *ops;
	const struct glm_model *model;
	struct glm_backend_config cfg;
};

int glm_backend_cpu_create(const struct glm_model *m, const struct glm_backend_config *cfg,
                           struct glm_backend **out, char *err, size_t errlen);
/* Bytes of RAM the CPU backend may still take (MemAvailable). */
int64_t glm_cpu_mem_available(void);

#endif
