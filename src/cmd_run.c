/* PLACEHOLDER: replaced by the real implementation of 'glmchat run'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_run(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("run: not implemented yet");
}
