/* Turning a model name into a file; see model_source.h. */
#include "config.h"
#include "src/model_source.h"
#include "src/hf_pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GLMCHAT_PKGDATADIR
#define GLMCHAT_PKGDATADIR "/usr/local/share/glmchat"
#endif

#define REAL_MODEL "unsloth/GLM-4.7-Flash-GGUF:UD-Q4_K_XL"

const char model_demo_notice[] =
	"No model given, so this is the bundled demo model: random weights, its text is noise. "
	"Get the real model with 'glmchat pull " REAL_MODEL "' and start 'glmchat -m hf:" REAL_MODEL "' "
	"(or set \"model\" in ~/.config/glmchat/config.json).";
const char model_demo_status[] = "DEMO: random weights, text is noise (see glmchat pull)";

bool model_source_is_demo(const char *model)
{
	return !model || !*model;
}

const char *model_demo_path(void)
{
	const char *env = getenv("GLMCHAT_DEMO_MODEL");

	if (env && *env)
		return env;
#ifdef GLMCHAT_SOURCE_DIR
	/* Not installed yet: the demo is the tiny fixture in the source tree. */
	if (access(GLMCHAT_PKGDATADIR "/demo.gguf", R_OK) &&
	    !access(GLMCHAT_SOURCE_DIR "/tests/fixtures/models/tiny-q8_0.gguf", R_OK))
		return GLMCHAT_SOURCE_DIR "/tests/fixtures/models/tiny-q8_0.gguf";
#endif
	return GLMCHAT_PKGDATADIR "/demo.gguf";
}

int model_source_resolve(const char *model, char **path, char *err, size_t errlen)
{
	struct hf_spec spec;
	struct hf_pull_opts o = {.progress = isatty(STDERR_FILENO) == 1};
	char local[4096];

	*path = NULL;
	if (model_source_is_demo(model)) {
		if (access(model_demo_path(), R_OK)) {
			snprintf(err, errlen, "%s: no model given (-m FILE or -m hf:REPO[:QUANT]) and the demo model "
			         "is not installed", model_demo_path());
			return -1;
		}
		model = model_demo_path();
	} else if (hf_is_spec(model)) {
		if (hf_parse_spec(model, &spec, err, errlen) ||
		    hf_pull(&spec, &o, local, sizeof local, err, errlen))
			return -1;
		model = local;
	}
	if (!(*path = strdup(model))) {
		snprintf(err, errlen, "%s: out of memory", model);
		return -1;
	}
	return 0;
}
