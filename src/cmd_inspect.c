/* PLACEHOLDER: replaced by the real implementation of 'glmchat inspect'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_inspect(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("inspect: not implemented yet");
}
