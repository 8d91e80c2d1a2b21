/* Standard input and output for the subcommands; see cli_io.h. */
#include "config.h"
#include "src/cli_io.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/gguf.h"
#include "engine/tokenizer.h"
#include "src/cli.h"

char *cli_read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	if (!buf) {
		cli_runtime_error("stdin: out of memory");
		return NULL;
	}
	for (;;) {
		/* one byte always stays free for the terminating NUL */
		size_t k = fread(buf + n, 1, cap - 1 - n, stdin);

		n += k;
		if (n + 1 == cap) {
			char *p = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				cli_runtime_error("stdin: input too large for memory");
				return NULL;
			}
			buf = p;
			cap *= 2;
		} else if (!k) {
			break;
		}
	}
	if (ferror(stdin)) {
		free(buf);
		cli_runtime_error("stdin: read error");
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int cli_open_tokenizer(const char *path, struct glm_tokenizer **t)
{
	struct gguf_file *f;
	char err[512];
	int rc;

	if (gguf_open(path, &f, err, sizeof err))
		return cli_runtime_error("%s", err);
	rc = glm_tokenizer_load(f, t, err, sizeof err);
	gguf_close(f);                   /* the tokenizer keeps its own copy */
	return rc ? cli_runtime_error("%s", err) : EXIT_OK;
}

void cli_print_ids(const int32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(i ? " %d" : "%d", ids[i]);
	putchar('\n');
}

int cli_flush_stdout(void)
{
	return fflush(stdout) || ferror(stdout) ? cli_runtime_error("stdout: write error") : EXIT_OK;
}
