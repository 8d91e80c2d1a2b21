/* The user's config file, $XDG_CONFIG_HOME/glmchat/config.json (format in
 * glmchat.conf(5)). It holds defaults for the common options and for the
 * chat screen; the command line overrides it. Unknown keys and bad values
 * are errors that name the key, never silently ignored.
 *
 * (Named userconfig.h, not config.h: "config.h" is Autoconf's header, and a
 * src/config.h would shadow it for every file in src/.)
 *
 * Use, in a command that honours the config (chat, run):
 *
 *	struct glmchat_config cfg;
 *	struct cli_common cli;
 *	if ((rc = config_setup("chat", &cfg, &cli)))   // load + apply
 *		return rc;
 *	... getopt loop: cli_common_option(...) overrides ...
 *	... cfg.thinking, cfg.show_reasoning, cfg.colors, cfg.reasoning_key ...
 *	config_free(&cfg);                            // after the last use of cli.model
 */
#ifndef GLM_USERCONFIG_H
#define GLM_USERCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "src/cli.h"

/* Colours are terminal colour numbers, as ncurses uses them: -1 the
 * terminal's default, 0-7 black red green yellow blue magenta cyan white,
 * 8-15 their bright forms, up to 255 on 256-colour terminals. */
struct config_colors {
	int user;                     /* what the user typed */
	int answer;                   /* the model's answer */
	int reasoning;                /* the reasoning pane */
	int status;                   /* status bar text */
	int notice;                   /* notices and errors */
};

/* A key: ctrl or alt plus a letter, or a function key. */
enum config_key_kind { CONFIG_KEY_CTRL, CONFIG_KEY_ALT, CONFIG_KEY_FN };
struct config_key {
	enum config_key_kind kind;
	int code;                     /* 'a'..'z' for CTRL/ALT; 1..12 for FN */
};

struct glmchat_config {
	char *path;                   /* the file read; NULL when there was none */
	/* Engine and sampling defaults, with cli_common's "unset" markers for
	 * what the file does not set. model (malloc'd) may be a path or hf:REPO[:QUANT]. */
	struct cli_common opts;
	char *model;                  /* owns opts.model */
	/* Chat screen */
	bool thinking;                /* default true: the model reasons first */
	bool show_reasoning;          /* default true: the reasoning pane is shown */
	char *system_prompt;          /* NULL: none */
	struct config_key reasoning_key;   /* default C-t */
	struct config_colors colors;
};

/* Defaults only (no file). */
void config_init(struct glmchat_config *c);
void config_free(struct glmchat_config *c);

/* The config file's path: $GLMCHAT_CONFIG when set, else
 * $XDG_CONFIG_HOME/glmchat/config.json. 0, or -1 when no home is known. */
int  config_default_path(char *buf, size_t n);

/* Parse JSON text (origin names it in messages). Keys the text sets
 * replace c's values. 0, or -1 with "ORIGIN: key 'sampling.temp': expected
 * a number from 0 to 100" in err. */
int  config_parse(const char *json, size_t len, const char *origin, struct glmchat_config *c,
                  char *err, size_t errlen);
/* Read a file; a missing file is fine when missing_ok. */
int  config_load_file(const char *path, bool missing_ok, struct glmchat_config *c,
                      char *err, size_t errlen);

/* Copy the config's values into freshly initialised options; call before
 * parsing the command line so that what it gives overrides. */
void config_apply_to_cli(const struct glmchat_config *c, struct cli_common *cli);

/* config_init + load the default file + cli_common_init + apply. On a bad
 * file prints "glmchat: FILE: key ...: ..." and returns EXIT_RUNTIME. */
int  config_setup(const char *cmd, struct glmchat_config *c, struct cli_common *cli);

/* The effective settings as JSON in the config file's own format (what
 * --print-config shows): c's screen settings with cli's options. malloc'd. */
char *config_to_json(const struct glmchat_config *c, const struct cli_common *cli);

/* "C-t", "M-x", "F2" <-> struct config_key. 0 ok, -1 bad. */
int  config_parse_key(const char *s, struct config_key *k);
void config_key_name(const struct config_key *k, char *buf, size_t n);
/* "cyan", "bright-black", "default", or "0".."255". -2 bad. */
int  config_parse_color(const char *s);

#endif
