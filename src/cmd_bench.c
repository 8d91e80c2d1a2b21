/* PLACEHOLDER: replaced by the real implementation of 'glmchat bench'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_bench(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("bench: not implemented yet");
}
