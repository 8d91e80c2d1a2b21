/* PLACEHOLDER: replaced by the real implementation of 'glmchat tokenize'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_tokenize(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("tokenize: not implemented yet");
}
