/* Command-line plumbing shared by the subcommands: the common options of
 * design/INTERFACE.md, strict number parsing, and the error conventions
 * (usage error: exit 2; runtime failure: one line "glmchat: FILE: what",
 * exit 1). */
#ifndef GLM_CLI_H
#define GLM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include "engine/engine.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Long-option ids of the common options (short ones use their letter). */
enum {
	OPT_BACKEND = 1000, OPT_CTK, OPT_FA, OPT_SEED, OPT_TEMP, OPT_TOP_P, OPT_TOP_K, OPT_MIN_P,
	OPT_REPEAT_PENALTY, OPT_PRESENCE_PENALTY,
	OPT_RESUME, OPT_SLEEP_IDLE, OPT_PRINT_CONFIG,
	OPT_COMMON_LAST = 1099,
};

/* Options every model-using subcommand accepts; NaN / -1 mean "not given". */
struct cli_common {
	const char *model;            /* -m */
	enum glm_backend_kind backend;
	int64_t n_ctx;                /* -c, 0 = model's */
	enum glm_kv_type kv_type;     /* --ctk */
	int n_threads;                /* -t, 0 = all */
	int n_predict;                /* -n, -1 = until stop */
	bool flash_attn;              /* --fa */
	bool seed_set;
	uint64_t seed;
	float temp, top_p, min_p, repeat_penalty, presence_penalty;  /* NaN = unset */
	int top_k;                    /* -1 = unset */
	/* chat only (CLI_SESSION_LONGOPTS; the config file may set the second) */
	const char *resume;           /* --resume[=FILE]: "" = the last session; NULL = not given */
	int sleep_idle_seconds;       /* --sleep-idle-seconds N: 0 = never */
};

/* getopt_long entries for the common options; splice into a command's table. */
#define CLI_COMMON_LONGOPTS \
	{"model", required_argument, 0, 'm'}, \
	{"backend", required_argument, 0, OPT_BACKEND}, \
	{"ctx-size", required_argument, 0, 'c'}, \
	{"ctk", required_argument, 0, OPT_CTK}, \
	{"threads", required_argument, 0, 't'}, \
	{"n-predict", required_argument, 0, 'n'}, \
	{"fa", required_argument, 0, OPT_FA}, \
	{"seed", required_argument, 0, OPT_SEED}, \
	{"temp", required_argument, 0, OPT_TEMP}, \
	{"top-p", required_argument, 0, OPT_TOP_P}, \
	{"top-k", required_argument, 0, OPT_TOP_K}, \
	{"min-p", required_argument, 0, OPT_MIN_P}, \
	{"repeat-penalty", required_argument, 0, OPT_REPEAT_PENALTY}, \
	{"presence-penalty", required_argument, 0, OPT_PRESENCE_PENALTY}
#define CLI_COMMON_SHORTOPTS "m:c:t:n:"
/* The chat's session options; cli_common_option handles them too. */
#define CLI_SESSION_LONGOPTS \
	{"resume", optional_argument, 0, OPT_RESUME}, \
	{"sleep-idle-seconds", required_argument, 0, OPT_SLEEP_IDLE}
extern const char cli_session_help[];
/* Help text for the common options (one block, for --help output). */
extern const char cli_common_help[];

void cli_common_init(struct cli_common *c);
/* Handle one getopt result. Returns 1 when it was a common option, 0 when
 * not, -1 after printing a usage error for a bad value. */
int  cli_common_option(const char *cmd, int opt, const char *arg, struct cli_common *c);
/* getopt_long with the common options handled: the next option that is the
 * command's own ('?' for one getopt did not know), CLI_OPT_BAD after a
 * usage error for a common option's value, -1 after the last option. */
enum { CLI_OPT_BAD = -2 };
int  cli_next_option(const char *cmd, int argc, char **argv, const char *shortopts,
                     const struct option *longopts, struct cli_common *c);
/* Apply the common options to an engine configuration / sampling settings
 * (only the fields that were given override). */
void cli_engine_config(const struct cli_common *c, struct glm_engine_config *cfg);
void cli_apply_sampling(const struct cli_common *c, struct glm_sampling *s);
/* Open the engine for a command; on failure prints the error and returns NULL. */
glm_engine *cli_open_engine(const struct cli_common *c);
/* The same for commands that evaluate raw token ids (logits, generate): no
 * demo notice, and a model whose tokenizer cannot be loaded still opens. */
glm_engine *cli_open_engine_raw_ids(const struct cli_common *c);

/* Strict parsers: whole string, range-checked. 0 ok, -1 bad. */
int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
int cli_parse_float(const char *s, double lo, double hi, float *out);
/* "1,2,3" -> malloc'd array of token ids. 0 ok, -1 bad. */
int cli_parse_ids(const char *s, int32_t **ids, size_t *n);

/* Error conventions. Both return the exit status to pass on. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
