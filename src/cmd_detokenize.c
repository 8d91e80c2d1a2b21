/* PLACEHOLDER: replaced by the real implementation of 'glmchat detokenize'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_detokenize(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("detokenize: not implemented yet");
}
