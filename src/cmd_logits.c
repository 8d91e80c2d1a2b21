/* PLACEHOLDER: replaced by the real implementation of 'glmchat logits'. */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"

int cmd_logits(int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_runtime_error("logits: not implemented yet");
}
