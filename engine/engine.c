/* PLACEHOLDER: the engine is implemented by the CPU-engine work (issue 4). */
#include "config.h"
#include "engine/engine.h"
#include <stdio.h>
#include <string.h>

void glm_engine_config_default(struct glm_engine_config *c)
{
	memset(c, 0, sizeof *c);
	c->kv_type = GLM_KV_DEFAULT;
	c->flash_attn = true;
}

int glm_engine_open(const struct glm_engine_config *cfg, glm_engine **out, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s: the engine is not implemented yet", cfg->model_path ? cfg->model_path : "(no model)");
	return -1;
}
