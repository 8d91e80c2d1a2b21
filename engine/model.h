/* GLM-4.7-Flash (GGUF arch "deepseek2") bound to its tensors: the
 * hyper-parameters read and checked from the metadata, and a typed view of
 * every weight the forward pass needs. Backends read only this. */
#ifndef GLM_MODEL_H
#define GLM_MODEL_H

#include "engine/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

enum glm_gating { GLM_GATING_SOFTMAX = 1, GLM_GATING_SIGMOID = 2 };

struct glm_hparams {
	uint32_t n_vocab;
	uint32_t n_embd;              /* 2048 */
	uint32_t n_layer;             /* layers run: block_count - nextn_predict_layers (47) */
	uint32_t n_layer_file;        /* block_count as written (47 or 48) */
	uint32_t n_leading_dense;     /* 1 */
	uint32_t n_ff;                /* dense FFN width (10240) */
	uint32_t n_ff_exp;            /* expert FFN width (1536) */
	uint32_t n_head;              /* 20 query heads */
	uint32_t q_lora_rank;         /* 768 */
	uint32_t kv_lora_rank;        /* 512: latent width, also V width in the cache */
	uint32_t n_embd_head_qk_nope; /* 192 */
	uint32_t n_rot;               /* 64: roped dims of q and the shared k */
	uint32_t n_embd_head_k;       /* 256 = nope + rope (score scale 1/sqrt of this) */
	uint32_t n_embd_head_v;       /* 256 */
	uint32_t n_expert;            /* 64 */
	uint32_t n_expert_used;       /* 4 */
	uint32_t n_expert_shared;     /* 1 */
	enum glm_gating gating;       /* sigmoid when the key is absent */
	bool expert_weights_norm;
	float expert_weights_scale;   /* 1.8 */
	float rms_eps;                /* file eps (1e-5): attn/ffn/output norms */
	float rms_eps_inner;          /* 1e-6: q_a_norm and kv_a_norm, as the reference does */
	float rope_freq_base;         /* 1e6 */
	uint64_t n_ctx_train;         /* 202752 */
};

struct glm_layer {
	const struct glm_tensor *attn_norm, *attn_q_a, *attn_q_a_norm, *attn_q_b;
	const struct glm_tensor *attn_kv_a_mqa, *attn_kv_a_norm, *attn_k_b, *attn_v_b;
	const struct glm_tensor *attn_output, *ffn_norm;
	bool is_moe;
	/* dense layers */
	const struct glm_tensor *ffn_gate, *ffn_up, *ffn_down;
	/* MoE layers. With a fused gate_up file, ffn_gate_exps/ffn_up_exps are
	 * views (own storage below) of the two halves of each expert's rows. */
	const struct glm_tensor *ffn_gate_inp, *exp_probs_b;
	const struct glm_tensor *ffn_gate_exps, *ffn_up_exps, *ffn_down_exps;
	const struct glm_tensor *ffn_gate_shexp, *ffn_up_shexp, *ffn_down_shexp;
	struct glm_tensor fused_gate_view, fused_up_view;
};

struct glm_model {
	struct gguf_file *gguf;       /* owns the mapping and tensor views */
	struct glm_hparams hp;
	char *name;                   /* general.name, or the file's base name */
	/* output is token_embd itself when the file has no output.weight (tied) */
	const struct glm_tensor *token_embd, *output_norm, *output;
	struct glm_layer *layers;     /* hp.n_layer entries */
};

/* Open, parse, bind and check a model file. On failure *out is NULL and err
 * holds one line ("FILE: what is wrong"). */
int  glm_model_load(const char *path, struct glm_model **out, char *err, size_t errlen);
/* Bind an already parsed file (takes ownership of f on success). */
int  glm_model_bind(struct gguf_file *f, struct glm_model **out, char *err, size_t errlen);
void glm_model_free(struct glm_model *m);

/* Bytes of weights read to decode one token: every layer's attention
 * matrices and norms, the dense FFN of the leading layers, per MoE layer the
 * router, exp_probs_b, n_expert_used routed experts' gate/up/down slabs and
 * the shared expert, then output_norm, the output matrix and one row of
 * token_embd. (KV-cache bytes per token: glm_kv_bytes_per_token, backend.h.) */
uint64_t glm_model_bytes_per_token(const struct glm_model *m);

#ifdef __cplusplus
}
#endif

#endif
