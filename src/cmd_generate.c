/* glmchat generate: continue raw token ids, no chat format. Greedy unless
 * --temp is given; end-of-generation tokens stop it only with --stop-eog. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "src/cli.h"
#include "src/cli_io.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat generate -m MODEL --ids 1,2,3 -n N [--temp T] [--stop-eog] [OPTIONS]\n"
	"Continue the token ids (evaluated as one prompt from position 0) and print the\n"
	"generated ids, space-separated, on one line.\n"
	"\n"
	"      --ids LIST          prompt token ids, comma- or space-separated\n"
	"      --stop-eog          stop at an end-of-generation token (not printed)\n"
	"  -h, --help              this help\n"
	"Greedy unless --temp is given (then the sampling options apply).\n"
	"\n";

enum { OPT_IDS = OPT_COMMON_LAST + 1, OPT_STOP_EOG };

int cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"ids", required_argument, 0, OPT_IDS},
		{"stop-eog", no_argument, 0, OPT_STOP_EOG},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	const char *ids_arg = NULL;
	struct glm_gen_request req = {0};
	struct glm_gen_result res = {0};
	int32_t *ids = NULL;
	size_t n = 0;
	glm_engine *e;
	char err[512];
	int opt, rc = EXIT_RUNTIME;

	cli_common_init(&common);
	optind = 0;
	while ((opt = cli_next_option("generate", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &common)) != -1) {
		switch (opt) {
		case CLI_OPT_BAD:
			return EXIT_USAGE;
		case OPT_IDS:
			ids_arg = optarg;
			break;
		case OPT_STOP_EOG:
			req.stop_at_eog = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(cli_common_help, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("generate", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
	if (!common.model)
		return cli_usage_error("generate", "no model given (-m)");
	if (!ids_arg)
		return cli_usage_error("generate", "--ids is required");
	if (cli_parse_ids(ids_arg, &ids, &n) || n == 0) {
		free(ids);
		return cli_usage_error("generate", "invalid --ids '%s'", ids_arg);
	}

	e = cli_open_engine_raw_ids(&common);
	if (!e) {
		free(ids);
		return EXIT_RUNTIME;
	}
	glm_engine_default_sampling(e, &req.sampling);
	req.sampling.temp = 0;                /* greedy unless asked */
	cli_apply_sampling(&common, &req.sampling);
	req.prompt = ids;
	req.n_prompt = n;
	req.n_predict = common.n_predict;
	if (glm_engine_generate(e, &req, &res, err, sizeof err)) {
		cli_runtime_error("%s", err);
	} else {
		cli_print_ids(res.tokens, res.n_tokens);
		if (res.stop == GLM_STOP_CONTEXT)
			fprintf(stderr, "glmchat: generate: stopped: the context of %lld tokens is full\n",
			        (long long)glm_engine_n_ctx(e));
		rc = cli_flush_stdout();
	}
	glm_gen_result_free(&res);
	glm_engine_close(e);
	free(ids);
	return rc;
}
