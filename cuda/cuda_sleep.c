/* glmchat-cuda-sleep: how much device memory the engine's idle sleep gives
 * back. Opens a model on CUDA, evaluates a few tokens, then prints the
 * device's used memory awake, asleep and after waking, and checks that the
 * logits after waking equal those before. For docs/PERF.md; not installed. */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"
#include "engine/model.h"
#include "cuda/cuda_testing.h"

static double used_mib(void)
{
	size_t fr = 0, tot = 0;
	if (glm_cuda_test_mem_info(&fr, &tot))
		return -1;
	return (double)(tot - fr) / (1024.0 * 1024.0);
}

int main(int argc, char **argv)
{
	struct glm_engine_config cfg;
	glm_engine *e = NULL;
	char err[512];
	const int32_t ids[4] = {1, 2, 3, 4};

	if (argc < 2) {
		fprintf(stderr, "usage: glmchat-cuda-sleep MODEL.gguf [N_CTX]\n");
		return 2;
	}
	const double base = used_mib();
	glm_engine_config_default(&cfg);
	cfg.model_path = argv[1];
	cfg.backend = GLM_BACKEND_CUDA;
	cfg.n_ctx = argc > 2 ? atoll(argv[2]) : 32768;
	cfg.tokenizer_optional = true;
	if (glm_engine_open(&cfg, &e, err, sizeof err)) {
		fprintf(stderr, "glmchat-cuda-sleep: %s\n", err);
		return 1;
	}
	const size_t V = glm_engine_model(e)->hp.n_vocab;
	float *l0 = malloc(sizeof(float) * V), *l1 = malloc(sizeof(float) * V);
	int rc = 1;
	if (!l0 || !l1)
		goto out;
	memset(l0, 0, sizeof(float) * V);
	memset(l1, 0, sizeof(float) * V);
	if (glm_engine_eval(e, ids, 4, 0, l0, false, err, sizeof err))
		goto fail;
	const double awake = used_mib();
	if (glm_engine_sleep(e)) {
		snprintf(err, sizeof err, "sleep failed");
		goto fail;
	}
	const double asleep = used_mib();
	if (glm_engine_wake(e, err, sizeof err))
		goto fail;
	const double woken = used_mib();
	if (glm_engine_eval(e, ids, 4, 0, l1, false, err, sizeof err))
		goto fail;
	const bool same = !memcmp(l0, l1, sizeof(float) * V);
	printf("device memory used (MiB): before open %.0f, awake %.0f, asleep %.0f, after wake %.0f; "
	       "released by sleep %.0f; logits after wake %s\n",
	       base, awake, asleep, woken, awake - asleep, same ? "identical" : "DIFFERENT");
	rc = same ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "glmchat-cuda-sleep: %s\n", err);
out:
	free(l0);
	free(l1);
	glm_engine_close(e);
	return rc;
}
