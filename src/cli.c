/* Shared command-line plumbing; see cli.h. */
#include "config.h"
#include "src/cli.h"
#include "src/model_source.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_common_help[] =
	"  -m, --model PATH        GGUF model file\n"
	"      --backend B         auto|cpu|cuda (default auto: CUDA when usable)\n"
	"  -c, --ctx-size N        context length in tokens (0 = the model's)\n"
	"      --ctk TYPE          latent cache type: f32 f16 bf16 q8_0 (default f16 on CUDA, f32 on CPU)\n"
	"  -t, --threads N         CPU threads (default: all)\n"
	"  -n, --n-predict N       most tokens generated per turn, reasoning included (-1 = no limit)\n"
	"      --fa on|off         fused MLA flash attention on CUDA (default on)\n"
	"      --seed N            sampling seed\n"
	"      --temp T            temperature (0 = greedy)\n"
	"      --top-p P, --top-k K, --min-p P, --repeat-penalty R, --presence-penalty P\n";

const char cli_session_help[] =
	"      --resume[=FILE]     continue the last saved session (or FILE)\n"
	"      --sleep-idle-seconds N  free the model's memory after N idle seconds (0 = never)\n";

void cli_common_init(struct cli_common *c)
{
	memset(c, 0, sizeof *c);
	c->backend = GLM_BACKEND_AUTO;
	c->kv_type = GLM_KV_DEFAULT;
	c->n_predict = -1;
	c->flash_attn = true;
	c->temp = c->top_p = c->min_p = c->repeat_penalty = c->presence_penalty = NAN;
	c->top_k = -1;
}

int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_float(const char *s, double lo, double hi, float *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= lo && v <= hi))
		return -1;
	*out = (float)v;
	return 0;
}

int cli_parse_ids(const char *s, int32_t **ids, size_t *n)
{
	size_t cap = 16, cnt = 0;
	int32_t *v = malloc(cap * sizeof *v);

	if (!v)
		return -1;
	while (*s) {
		char *end;
		long long x;

		while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		errno = 0;
		x = strtoll(s, &end, 10);
		if (end == s || errno || x < 0 || x > INT32_MAX) {
			free(v);
			return -1;
		}
		if (cnt == cap) {
			int32_t *nv = realloc(v, 2 * cap * sizeof *v);
			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
			cap *= 2;
		}
		v[cnt++] = (int32_t)x;
		s = end;
		if (*s && *s != ',' && *s != ' ' && *s != '\t' && *s != '\n') {
			free(v);
			return -1;
		}
	}
	*ids = v;
	*n = cnt;
	return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "glmchat%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'glmchat%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

int cli_runtime_error(const char *fmt, ...)
{
	va_list ap;

	fputs("glmchat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

static int bad_value(const char *cmd, const char *opt, const char *arg)
{
	cli_usage_error(cmd, "invalid value '%s' for %s", arg ? arg : "", opt);
	return -1;
}

int cli_common_option(const char *cmd, int opt, const char *arg, struct cli_common *c)
{
	int64_t v;

	switch (opt) {
	case 'm':
		c->model = arg;
		return 1;
	case OPT_BACKEND:
		if (!strcmp(arg, "auto"))
			c->backend = GLM_BACKEND_AUTO;
		else if (!strcmp(arg, "cpu"))
			c->backend = GLM_BACKEND_CPU;
		else if (!strcmp(arg, "cuda"))
			c->backend = GLM_BACKEND_CUDA;
		else
			return bad_value(cmd, "--backend", arg);
		return 1;
	case 'c':
		if (cli_parse_i64(arg, 0, INT32_MAX, &v))
			return bad_value(cmd, "--ctx-size", arg);
		c->n_ctx = v;
		return 1;
	case OPT_CTK:
		if (glm_kv_type_parse(arg, &c->kv_type))
			return bad_value(cmd, "--ctk", arg);
		return 1;
	case 't':
		if (cli_parse_i64(arg, 0, 1024, &v))
			return bad_value(cmd, "--threads", arg);
		c->n_threads = (int)v;
		return 1;
	case 'n':
		if (cli_parse_i64(arg, -1, INT32_MAX, &v))
			return bad_value(cmd, "--n-predict", arg);
		c->n_predict = (int)v;
		return 1;
	case OPT_FA:
		if (!strcmp(arg, "on") || !strcmp(arg, "1"))
			c->flash_attn = true;
		else if (!strcmp(arg, "off") || !strcmp(arg, "0"))
			c->flash_attn = false;
		else
			return bad_value(cmd, "--fa", arg);
		return 1;
	case OPT_SEED:
		if (cli_parse_i64(arg, 0, INT64_MAX, &v))
			return bad_value(cmd, "--seed", arg);
		c->seed = (uint64_t)v;
		c->seed_set = true;
		return 1;
	case OPT_TEMP:
		return cli_parse_float(arg, 0, 100, &c->temp) ? bad_value(cmd, "--temp", arg) : 1;
	case OPT_TOP_P:
		return cli_parse_float(arg, 0, 1, &c->top_p) ? bad_value(cmd, "--top-p", arg) : 1;
	case OPT_MIN_P:
		return cli_parse_float(arg, 0, 1, &c->min_p) ? bad_value(cmd, "--min-p", arg) : 1;
	case OPT_REPEAT_PENALTY:
		return cli_parse_float(arg, 0, 10, &c->repeat_penalty) ? bad_value(cmd, "--repeat-penalty", arg) : 1;
	case OPT_PRESENCE_PENALTY:
		return cli_parse_float(arg, -10, 10, &c->presence_penalty) ? bad_value(cmd, "--presence-penalty", arg) : 1;
	case OPT_TOP_K:
		if (cli_parse_i64(arg, 0, INT32_MAX, &v))
			return bad_value(cmd, "--top-k", arg);
		c->top_k = (int)v;
		return 1;
	case OPT_RESUME:
		c->resume = arg ? arg : "";
		return 1;
	case OPT_SLEEP_IDLE:
		if (cli_parse_i64(arg, 0, INT32_MAX, &v))
			return bad_value(cmd, "--sleep-idle-seconds", arg);
		c->sleep_idle_seconds = (int)v;
		return 1;
	}
	return 0;
}

int cli_next_option(const char *cmd, int argc, char **argv, const char *shortopts,
                    const struct option *longopts, struct cli_common *c)
{
	int opt, r;

	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		r = cli_common_option(cmd, opt, optarg, c);
		if (r < 0)
			return CLI_OPT_BAD;
		if (r == 0)
			return opt;
	}
	return -1;
}

void cli_engine_config(const struct cli_common *c, struct glm_engine_config *cfg)
{
	glm_engine_config_default(cfg);
	cfg->model_path = c->model;
	cfg->backend = c->backend;
	cfg->n_ctx = c->n_ctx;
	cfg->kv_type = c->kv_type;
	cfg->n_threads = c->n_threads;
	cfg->flash_attn = c->flash_attn;
}

void cli_apply_sampling(const struct cli_common *c, struct glm_sampling *s)
{
	if (!isnan(c->temp))
		s->temp = c->temp;
	if (!isnan(c->top_p))
		s->top_p = c->top_p;
	if (!isnan(c->min_p))
		s->min_p = c->min_p;
	if (!isnan(c->repeat_penalty))
		s->repeat_penalty = c->repeat_penalty;
	if (!isnan(c->presence_penalty))
		s->presence_penalty = c->presence_penalty;
	if (c->top_k >= 0)
		s->top_k = c->top_k;
	if (c->seed_set)
		s->seed = c->seed;
}

/* -m resolved as everywhere (paths, hf: names, the demo model). The raw-ids
 * commands ask for no demo notice and accept a file whose tokenizer cannot
 * be loaded, since they never tokenize. */
static glm_engine *open_engine(const struct cli_common *c, bool raw_ids)
{
	struct glm_engine_config cfg;
	glm_engine *e = NULL;
	char err[512], *path;

	cli_engine_config(c, &cfg);
	if (model_source_resolve(c->model, &path, err, sizeof err)) {
		cli_runtime_error("%s", err);
		return NULL;
	}
	if (!raw_ids && model_source_is_demo(c->model))
		fprintf(stderr, "glmchat: %s\n", model_demo_notice);
	cfg.model_path = path;          /* the engine keeps its own copy */
	cfg.tokenizer_optional = raw_ids;
	if (glm_engine_open(&cfg, &e, err, sizeof err)) {
		cli_runtime_error("%s", err);
		e = NULL;
	}
	free(path);
	return e;
}

glm_engine *cli_open_engine(const struct cli_common *c)
{
	return open_engine(c, false);
}

glm_engine *cli_open_engine_raw_ids(const struct cli_common *c)
{
	return open_engine(c, true);
}
