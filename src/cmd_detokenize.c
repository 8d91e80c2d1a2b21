/* glmchat detokenize: token ids on standard input to the exact bytes they
 * stand for. Like tokenize, it reads only the tokenizer from the model. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"
#include "src/cli.h"
#include "src/cli_io.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat detokenize -m MODEL < IDS\n"
	"Decode token ids (decimal, separated by whitespace) from standard input and\n"
	"write the bytes they stand for, exactly: no newline is added, control tokens\n"
	"give their text. An id that is not a number or not in the vocabulary is an error.\n"
	"\n"
	"  -m, --model PATH   GGUF model file (only its tokenizer is read)\n"
	"  -h, --help         this help\n";

/* Reads one whitespace-separated word (at most cap - 1 bytes kept; longer
 * ones are kept cut, flagged by *long_word). 0 at end of input. */
static size_t next_word(FILE *in, char *word, size_t cap, bool *long_word)
{
	size_t n = 0;
	int c;

	*long_word = false;
	while ((c = getc(in)) != EOF && isspace(c))
		;
	for (; c != EOF && !isspace(c); c = getc(in)) {
		if (n + 1 < cap)
			word[n++] = (char)c;
		else
			*long_word = true;
	}
	word[n] = '\0';
	return n;
}

/* A decimal id below n_vocab: digits only, no sign, no leading junk. */
static int32_t parse_id(const char *w, bool long_word, int32_t n_vocab)
{
	int64_t v = 0;

	if (long_word || !*w)
		return -1;
	for (const char *p = w; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v >= n_vocab)
			return -1;
	}
	return (int32_t)v;
}

int cmd_detokenize(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	struct glm_tokenizer *t = NULL;
	char word[32];
	bool long_word;
	int32_t *ids = NULL;
	size_t n = 0, cap = 0;
	int opt, rc;

	cli_common_init(&common);
	optind = 0;
	while ((opt = cli_next_option("detokenize", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &common)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		return opt == CLI_OPT_BAD ? EXIT_USAGE : cli_usage_error("detokenize", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("detokenize", "unexpected argument '%s' (the ids come on standard input)",
		                       argv[optind]);
	if (!common.model)
		return cli_usage_error("detokenize", "no model given (-m MODEL)");
	if ((rc = cli_open_tokenizer(common.model, &t)))
		return rc;

	/* Every id is checked before any byte goes out: an error leaves no
	 * partial output behind. */
	rc = EXIT_OK;
	for (size_t i = 0; next_word(stdin, word, sizeof word, &long_word); i++) {
		int32_t id = parse_id(word, long_word, glm_tokenizer_n_vocab(t));

		if (id < 0) {
			for (char *p = word; *p; p++)    /* the message must not carry escapes */
				if (!isprint((unsigned char)*p))
					*p = '?';
			rc = cli_runtime_error("detokenize: word %zu, '%s%s', is not a token id (0 to %d)", i + 1, word,
			                       long_word ? "..." : "", glm_tokenizer_n_vocab(t) - 1);
			goto out;
		}
		if (n == cap) {
			int32_t *p = realloc(ids, (cap = cap ? 2 * cap : 1024) * sizeof *p);
			if (!p) {
				rc = cli_runtime_error("detokenize: out of memory");
				goto out;
			}
			ids = p;
		}
		ids[n++] = id;
	}
	if (ferror(stdin)) {
		rc = cli_runtime_error("stdin: read error");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *p = glm_token_piece(t, ids[i], &len);
		fwrite(p, 1, len, stdout);
	}
	rc = cli_flush_stdout();
out:
	free(ids);
	glm_tokenizer_free(t);
	return rc;
}
