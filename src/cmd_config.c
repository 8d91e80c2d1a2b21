/* glmchat [chat] --print-config [OPTIONS]: the settings the chat would
 * use, the config file merged with the options given, in the config file's
 * format (so the output can be saved as a config file). */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/userconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: glmchat [chat] --print-config [OPTIONS]\n"
	"Print the chat's settings (the config file, then these options) as JSON.\n\n";

int cmd_print_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_SESSION_LONGOPTS,
		{"print-config", no_argument, 0, OPT_PRINT_CONFIG},
		{"no-think", no_argument, 0, 'N'},
		{"no-mouse", no_argument, 0, 'M'},
		{"system", required_argument, 0, 'S'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct glmchat_config cfg;
	struct cli_common cli;
	char *json;
	int rc, opt;

	if ((rc = config_setup("chat", &cfg, &cli)))
		return rc;
	optind = 1;
	opterr = 0;
	while ((opt = cli_next_option("chat", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &cli)) != -1) {
		switch (opt) {
		case CLI_OPT_BAD:
			config_free(&cfg);
			return EXIT_USAGE;
		case OPT_PRINT_CONFIG:
		case 'M':               /* the screen's own; not a setting */
			break;
		case 'N':
			cfg.thinking = false;
			break;
		case 'S':
			free(cfg.system_prompt);
			cfg.system_prompt = strdup(optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(cli_common_help, stdout);
			fputs(cli_session_help, stdout);
			config_free(&cfg);
			return EXIT_OK;
		default:
			config_free(&cfg);
			return cli_usage_error("chat", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		config_free(&cfg);
		return cli_usage_error("chat", "unexpected argument '%s'", argv[optind]);
	}
	if (!(json = config_to_json(&cfg, &cli))) {
		config_free(&cfg);
		return cli_runtime_error("out of memory");
	}
	puts(json);
	free(json);
	if (cfg.path)
		fprintf(stderr, "glmchat: settings from %s\n", cfg.path);
	config_free(&cfg);
	return EXIT_OK;
}
