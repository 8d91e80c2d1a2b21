/* PLACEHOLDER: replaced by the real implementation of 'glmchat chat'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_chat(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("chat: not implemented yet");
}
