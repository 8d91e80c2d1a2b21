/* glmchat render: a conversation (JSON on standard input) rendered with the
 * model's chat format, as the prompt text or its token ids. It reads only
 * the GGUF metadata (chat template, tokenizer), never the weights. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"
#include "src/cli.h"
#include "src/cli_io.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat render -m MODEL [--ids] < CONVERSATION.json\n"
	"Render a conversation with the model's chat format (GLM-4.7).\n"
	"\n"
	"  -m, --model PATH   GGUF model file (only its chat template and tokenizer are read)\n"
	"      --ids          print the prompt's token ids instead of its text; text from\n"
	"                     messages and tools never becomes a control token\n"
	"  -h, --help         this help\n"
	"\n"
	"Standard input holds one JSON object:\n"
	"  {\"messages\": [...], \"tools\": [...], \"enable_thinking\": true,\n"
	"   \"clear_thinking\": true, \"add_generation_prompt\": true}\n"
	"(all but messages optional; defaults shown). Messages are OpenAI-style:\n"
	"role (system, user, assistant, tool), content (a string or a list of\n"
	"{\"type\": \"text\", \"text\": ...} parts), reasoning_content, tool_calls\n"
	"([{\"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": {...}}}]).\n"
	"\n"
	"Output: the prompt text exactly, no newline added; with --ids the ids,\n"
	"space-separated, on one line.\n";

enum { OPT_IDS = OPT_COMMON_LAST + 1 };

/* The model's chat format and, for --ids, its tokenizer. */
static int open_model(const char *path, bool want_tokenizer, struct glm_chat_format **fmt,
                      struct glm_tokenizer **tok)
{
	struct gguf_file *f;
	char err[512], *tpl;
	int rc;

	if (gguf_open(path, &f, err, sizeof err))
		return cli_runtime_error("%s", err);
	tpl = gguf_get_str(f, "tokenizer.chat_template");
	rc = glm_chat_format_load(tpl, NULL, fmt, err, sizeof err);
	free(tpl);
	if (rc) {
		gguf_close(f);
		/* an unknown template is the model's; a data-file error names its file */
		return rc == -2 ? cli_runtime_error("%s: %s", path, err) : cli_runtime_error("%s", err);
	}
	if (want_tokenizer && glm_tokenizer_load(f, tok, err, sizeof err)) {
		gguf_close(f);
		glm_chat_format_free(*fmt);
		return cli_runtime_error("%s", err);
	}
	gguf_close(f);
	return EXIT_OK;
}

static int print_ids(const struct glm_rendered *r, const struct glm_tokenizer *t)
{
	int32_t *ids;
	size_t n;

	if (glm_rendered_tokenize(r, t, &ids, &n))
		return cli_runtime_error("render: out of memory tokenizing the prompt");
	cli_print_ids(ids, n);
	free(ids);
	return EXIT_OK;
}

static int print_text(const struct glm_rendered *r)
{
	for (size_t i = 0; i < r->n; i++)
		fwrite(r->seg[i].text, 1, r->seg[i].len, stdout);
	return EXIT_OK;
}

int cmd_render(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"ids", no_argument, 0, OPT_IDS},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	struct glm_chat_format *fmt = NULL;
	struct glm_tokenizer *tok = NULL;
	struct glm_conversation conv;
	struct glm_render_opts opts;
	struct glm_rendered r = {0};
	bool want_ids = false;
	char err[512], *json;
	size_t len;
	int opt, rc;

	cli_common_init(&common);
	optind = 0;
	while ((opt = cli_next_option("render", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &common)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else if (opt == OPT_IDS) {
			want_ids = true;
		} else {
			return opt == CLI_OPT_BAD ? EXIT_USAGE : cli_usage_error("render", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("render", "unexpected argument '%s' (the conversation comes on standard input)",
		                       argv[optind]);
	if (!common.model)
		return cli_usage_error("render", "no model given (-m MODEL)");
	if ((rc = open_model(common.model, want_ids, &fmt, &tok)))
		return rc;
	json = cli_read_stdin(&len);
	if (!json) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = glm_conversation_from_json(json, len, &conv, &opts, err, sizeof err);
	free(json);
	if (rc) {
		rc = cli_runtime_error("stdin: %s", err);
		goto out;
	}
	rc = glm_chat_render(fmt, &conv, &opts, &r, err, sizeof err);
	glm_conversation_free(&conv);
	if (rc) {
		rc = cli_runtime_error("stdin: %s", err);
		goto out;
	}
	rc = want_ids ? print_ids(&r, tok) : print_text(&r);
	if (!rc)
		rc = cli_flush_stdout();
out:
	glm_rendered_free(&r);
	glm_tokenizer_free(tok);
	glm_chat_format_free(fmt);
	return rc;
}
