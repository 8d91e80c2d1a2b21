/* PLACEHOLDER: replaced by the real implementation of 'glmchat render'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_render(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("render: not implemented yet");
}
