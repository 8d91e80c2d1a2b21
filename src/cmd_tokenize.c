/* glmchat tokenize: all of standard input, as raw bytes, to token ids. It
 * reads only the GGUF metadata and the tokenizer, never the weights, so it
 * is instant whatever the model's size. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"
#include "src/cli.h"
#include "src/cli_io.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat tokenize -m MODEL [--special] [--pieces] < TEXT\n"
	"Tokenize all of standard input (raw bytes, any encoding) with the model's tokenizer.\n"
	"\n"
	"  -m, --model PATH   GGUF model file (only its tokenizer is read)\n"
	"      --special      control-token text such as <|user|> becomes control tokens\n"
	"                     (default: it is ordinary text, as anything a user types is)\n"
	"      --pieces       one token per line: ID, a tab, the token's bytes\n"
	"  -h, --help         this help\n"
	"\n"
	"Output: the ids, space-separated, on one line. With --pieces, each piece is\n"
	"printed with \\\\, \\t, \\n, \\r and \\xNN (other control bytes, and bytes that are\n"
	"not complete UTF-8, such as half of a character split between tokens).\n";

enum { OPT_SPECIAL = OPT_COMMON_LAST + 1, OPT_PIECES };

/* A piece, readable on a terminal and unambiguous: complete printable UTF-8
 * as itself, everything else escaped. */
static void put_piece(FILE *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int k = glm_utf8_check(p + i, n - i);

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else if (k > 1 && !(c == 0xc2 && (unsigned char)p[i + 1] < 0xa0)) {   /* C1 controls escaped */
			fwrite(p + i, 1, (size_t)k, out);
			i += (size_t)k - 1;
		} else {
			fprintf(out, "\\x%02x", c);
		}
	}
}

int cmd_tokenize(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"special", no_argument, 0, OPT_SPECIAL},
		{"pieces", no_argument, 0, OPT_PIECES},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	bool special = false, pieces = false;
	struct glm_tokenizer *t = NULL;
	int32_t *ids = NULL;
	size_t len = 0, n = 0, cap = 0;
	char *text;
	int opt, rc;

	cli_common_init(&common);
	optind = 0;
	while ((opt = cli_next_option("tokenize", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &common)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else if (opt == OPT_SPECIAL) {
			special = true;
		} else if (opt == OPT_PIECES) {
			pieces = true;
		} else {
			return opt == CLI_OPT_BAD ? EXIT_USAGE : cli_usage_error("tokenize", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("tokenize", "unexpected argument '%s' (the text comes on standard input)",
		                       argv[optind]);
	if (!common.model)
		return cli_usage_error("tokenize", "no model given (-m MODEL)");
	if ((rc = cli_open_tokenizer(common.model, &t)))
		return rc;
	text = cli_read_stdin(&len);
	if (!text) {
		glm_tokenizer_free(t);
		return EXIT_RUNTIME;
	}
	if (glm_tokenize(t, text, len, special, &ids, &n, &cap)) {
		rc = cli_runtime_error("tokenize: out of memory for %zu bytes of input", len);
		goto out;
	}
	if (!pieces)
		cli_print_ids(ids, n);
	for (size_t i = 0; pieces && i < n; i++) {
		size_t plen;
		const char *p = glm_token_piece(t, ids[i], &plen);

		printf("%d\t", ids[i]);
		put_piece(stdout, p, plen);
		putchar('\n');
	}
	rc = cli_flush_stdout();
out:
	free(ids);
	free(text);
	glm_tokenizer_free(t);
	return rc;
}
