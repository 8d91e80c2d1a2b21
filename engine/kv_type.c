/* Latent KV-cache element types: names and sizes. */
#include "config.h"
#include <string.h>
#include "engine/backend.h"

static const struct { const char *name; uint32_t bytes_per_32; } kv_types[] = {
	[GLM_KV_F32] = {"f32", 128},
	[GLM_KV_F16] = {"f16", 64},
	[GLM_KV_BF16] = {"bf16", 64},
	[GLM_KV_Q8_0] = {"q8_0", 34},   /* 32 int8 values + one f16 scale */
};

const char *glm_kv_type_name(enum glm_kv_type t)
{
	if (t < 0 || t > GLM_KV_Q8_0)
		return "default";
	return kv_types[t].name;
}

int glm_kv_type_parse(const char *s, enum glm_kv_type *out)
{
	for (int t = GLM_KV_F32; t <= GLM_KV_Q8_0; t++)
		if (!strcmp(s, kv_types[t].name)) {
			*out = (enum glm_kv_type)t;
			return 0;
		}
	return -1;
}

uint64_t glm_kv_bytes_per_token(const struct glm_hparams *hp, enum glm_kv_type t)
{
	uint64_t row = hp->kv_lora_rank + hp->n_rot;   /* 576 values per layer */

	if (t < 0 || t > GLM_KV_Q8_0)
		return 0;
	/* rows are whole 32-value blocks (576 = 18 blocks) */
	return (uint64_t)hp->n_layer * ((row + 31) / 32) * kv_types[t].bytes_per_32;
}
