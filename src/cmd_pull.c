/* glmchat pull REPO[:QUANT]: download a model from Hugging Face into the
 * cache and print its path. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/hf_pull.h"

#include <stdio.h>
#include <unistd.h>

static const char usage[] =
	"Usage: glmchat pull [--force] REPO[:QUANT]\n"
	"Download a GGUF model from Hugging Face into the cache and print its path.\n"
	"  REPO[:QUANT]   e.g. unsloth/GLM-4.7-Flash-GGUF:UD-Q4_K_XL (QUANT defaults to " HF_DEFAULT_QUANT ")\n"
	"  -f, --force    download again even when the model is cached\n"
	"An interrupted download resumes where it stopped; HF_TOKEN is sent for gated repositories.\n";

int cmd_pull(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"force", no_argument, 0, 'f'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct hf_pull_opts o = {.progress = isatty(STDERR_FILENO) == 1};
	struct hf_spec spec;
	char path[4096], err[1024];
	int opt;

	while ((opt = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.force = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("pull", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("pull", "expected one REPO[:QUANT]");
	if (hf_parse_spec(argv[optind], &spec, err, sizeof err))
		return cli_usage_error("pull", "%s", err);
	if (hf_pull(&spec, &o, path, sizeof path, err, sizeof err))
		return cli_runtime_error("%s", err);
	puts(path);
	return EXIT_OK;
}
