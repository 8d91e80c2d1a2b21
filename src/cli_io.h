/* Standard input and output as the subcommands use them: errors are
 * printed with cli_runtime_error's conventions (see cli.h). */
#ifndef GLM_CLI_IO_H
#define GLM_CLI_IO_H

#include <stddef.h>
#include <stdint.h>

struct glm_tokenizer;

/* All of standard input, as raw bytes (*len of them), NUL-terminated for
 * callers that want a string; the caller frees it. NULL (message printed)
 * when it cannot be read or does not fit in memory. */
char *cli_read_stdin(size_t *len);

/* The model's tokenizer only: reads the GGUF metadata, never the weights.
 * EXIT_OK, or the runtime exit status after printing the error. */
int cli_open_tokenizer(const char *path, struct glm_tokenizer **t);

/* Token ids space-separated on one line, as every id-printing command does. */
void cli_print_ids(const int32_t *ids, size_t n);

/* Flush standard output: EXIT_OK, or the runtime exit status after
 * "stdout: write error" (a full disk or a closed pipe must not exit 0). */
int cli_flush_stdout(void);

#endif
