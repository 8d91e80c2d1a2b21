/* glmchat: the program's entry point. A table of subcommands, like git's;
 * with no subcommand (or options first) it opens the chat. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"chat",       cmd_chat,       "the full-screen chat (default)"},
	{"run",        cmd_run,        "one chat turn, non-interactive"},
	{"inspect",    cmd_inspect,    "validate a GGUF file and describe it"},
	{"tokenize",   cmd_tokenize,   "tokenize standard input"},
	{"detokenize", cmd_detokenize, "decode token ids from standard input"},
	{"render",     cmd_render,     "render a conversation (JSON on stdin) with the chat format"},
	{"logits",     cmd_logits,     "evaluate ids and write every position's logits"},
	{"generate",   cmd_generate,   "continue raw token ids"},
	{"bench",      cmd_bench,      "measure prompt processing and generation speed"},
	{"pull",       cmd_pull,       "download a model from Hugging Face (REPO[:QUANT])"},
	{"list",       cmd_list,       "list the downloaded models"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: glmchat [COMMAND] [OPTIONS]\n"
	             "A terminal chat for GLM-4.7-Flash with its own inference engine.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'glmchat COMMAND --help' for a command's options.\n"
	             "glmchat --print-config shows the chat's settings (config file and options).\n"
	             "glmchat --version prints the version; man glmchat has the rest.\n");
}

/* A process started with stdin, stdout or stderr closed would hand those
 * numbers to the first files and pipes it opens (the engine's wake pipe,
 * a session file), and a later write "to stdout" would land in them. */
static void reserve_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			break;
}

int main(int argc, char **argv)
{
	reserve_std_fds();
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("glmchat %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	/* --print-config anywhere among the chat's options shows its settings. */
	if (argc < 2 || argv[1][0] == '-' || !strcmp(argv[1], "chat")) {
		int skip = argc >= 2 && !strcmp(argv[1], "chat");
		for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
			if (!strcmp(argv[i], "--print-config"))
				return cmd_print_config(argc - skip, argv + skip);
	}
	if (argc < 2 || argv[1][0] == '-')
		return cmd_chat(argc, argv);   /* argv[0] stands in for "chat" */
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "glmchat: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
