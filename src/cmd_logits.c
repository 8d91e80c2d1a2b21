/* glmchat logits: evaluate token ids as one prompt from position 0 and
 * write every position's logits (little-endian float32, n_ids × n_vocab).
 * --incremental feeds them one at a time through the KV cache instead; the
 * two must agree, which is what makes this the backends' comparison tool. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "src/cli.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat logits -m MODEL --ids 1,2,3 --out FILE [--incremental] [OPTIONS]\n"
	"Evaluate the ids as one prompt starting at position 0 and write the logits of\n"
	"every position to FILE: little-endian float32, n_ids x n_vocab.\n"
	"\n"
	"      --ids LIST          token ids, comma- or space-separated\n"
	"      --out FILE          where the logits go ('-' for standard output)\n"
	"      --incremental       one token at a time through the KV cache, not one batch\n"
	"  -h, --help              this help\n"
	"\n";

enum { OPT_IDS = OPT_COMMON_LAST + 1, OPT_OUT, OPT_INCREMENTAL };

/* The floats as little-endian bytes, whatever the host's order. */
static int write_le_floats(FILE *f, const float *v, size_t n)
{
	const union { uint16_t u; uint8_t b[2]; } probe = {1};

	if (probe.b[0] == 1)
		return fwrite(v, sizeof *v, n, f) == n ? 0 : -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		uint8_t b[4];

		memcpy(&u, &v[i], 4);
		for (int k = 0; k < 4; k++)
			b[k] = (uint8_t)(u >> (8 * k));
		if (fwrite(b, 1, 4, f) != 4)
			return -1;
	}
	return 0;
}

int cmd_logits(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"ids", required_argument, 0, OPT_IDS},
		{"out", required_argument, 0, OPT_OUT},
		{"incremental", no_argument, 0, OPT_INCREMENTAL},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	const char *ids_arg = NULL, *out_path = NULL;
	bool incremental = false;
	int32_t *ids = NULL;
	size_t n = 0;
	float *logits = NULL;
	glm_engine *e = NULL;
	FILE *out = NULL;
	char err[512];
	int64_t V;
	int opt, rc = EXIT_RUNTIME;

	cli_common_init(&common);
	optind = 0;
	while ((opt = cli_next_option("logits", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &common)) != -1) {
		switch (opt) {
		case CLI_OPT_BAD:
			return EXIT_USAGE;
		case OPT_IDS:
			ids_arg = optarg;
			break;
		case OPT_OUT:
			out_path = optarg;
			break;
		case OPT_INCREMENTAL:
			incremental = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(cli_common_help, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("logits", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("logits", "unexpected argument '%s'", argv[optind]);
	if (!common.model)
		return cli_usage_error("logits", "no model given (-m)");
	if (!ids_arg || !out_path)
		return cli_usage_error("logits", "--ids and --out are required");
	if (cli_parse_ids(ids_arg, &ids, &n) || n == 0) {
		free(ids);
		return cli_usage_error("logits", "invalid --ids '%s'", ids_arg);
	}

	e = cli_open_engine_raw_ids(&common);
	if (!e)
		goto out;
	V = glm_engine_model(e)->hp.n_vocab;
	if ((int64_t)n > glm_engine_n_ctx(e)) {
		cli_runtime_error("%s: %zu ids do not fit the context of %" PRId64 " tokens",
		                  common.model, n, glm_engine_n_ctx(e));
		goto out;
	}
	logits = malloc(n * (size_t)V * sizeof *logits);
	if (!logits) {
		cli_runtime_error("%s: out of memory for %zu x %" PRId64 " logits", common.model, n, V);
		goto out;
	}
	if (incremental) {
		for (size_t i = 0; i < n; i++)
			if (glm_engine_eval(e, ids + i, 1, (int64_t)i, logits + i * V, false, err, sizeof err)) {
				cli_runtime_error("%s", err);
				goto out;
			}
	} else if (glm_engine_eval(e, ids, (int)n, 0, logits, true, err, sizeof err)) {
		cli_runtime_error("%s", err);
		goto out;
	}

	out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
	if (!out) {
		cli_runtime_error("%s: cannot open for writing", out_path);
		goto out;
	}
	if (write_le_floats(out, logits, n * (size_t)V) || fflush(out)) {
		cli_runtime_error("%s: write error", out_path);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (out && out != stdout && fclose(out) && rc == EXIT_OK)
		rc = cli_runtime_error("%s: write error", out_path);
	free(logits);
	free(ids);
	glm_engine_close(e);
	return rc;
}
