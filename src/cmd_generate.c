/* PLACEHOLDER: replaced by the real implementation of 'glmchat generate'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_generate(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("generate: not implemented yet");
}
