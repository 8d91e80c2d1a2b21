/* Slash commands: a table in the style of tmux's (name, alias, usage,
 * summary) and a pure parser from a typed line to a parsed command. Who
 * runs a command is decided by its id: the screen keeps the display ones
 * (/reasoning, /stats, /help, /copy, /quit), the glue the rest. */
#ifndef GLM_UI_COMMANDS_H
#define GLM_UI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

enum ui_cmd_id {
	UI_CMD_HELP, UI_CMD_CLEAR, UI_CMD_SYSTEM, UI_CMD_THINK, UI_CMD_REASONING, UI_CMD_SET,
	UI_CMD_REGEN, UI_CMD_EDIT, UI_CMD_COPY, UI_CMD_SAVE, UI_CMD_LOAD, UI_CMD_EXPORT,
	UI_CMD_STATS, UI_CMD_QUIT,
};

/* What a command takes after its name. */
enum ui_cmd_args {
	UI_ARGS_NONE,           /* nothing */
	UI_ARGS_ONOFF,          /* on|off (flag) */
	UI_ARGS_SHOWHIDE,       /* show|hide (flag) [N] (turn; 0 = all) */
	UI_ARGS_SET,            /* NAME VALUE */
	UI_ARGS_TEXT,           /* the rest of the line, required */
	UI_ARGS_TEXT_OPT,       /* the rest of the line, optional */
	UI_ARGS_FILE,           /* a file name, required */
	UI_ARGS_FILE_OPT,       /* a file name, optional */
};

struct ui_cmd_def {
	const char *name, *alias;       /* without the slash; alias may be NULL */
	enum ui_cmd_id id;
	enum ui_cmd_args args;
	const char *usage, *summary;
};
extern const struct ui_cmd_def ui_cmd_table[];
extern const size_t ui_cmd_count;

enum ui_set_key { UI_SET_TEMP, UI_SET_TOP_P, UI_SET_TOP_K, UI_SET_MIN_P, UI_SET_MAX_TOKENS };

struct ui_command {
	enum ui_cmd_id id;
	bool flag;                      /* on / show */
	int turn;                       /* /reasoning show|hide N: answer N (0: all) */
	enum ui_set_key key;            /* /set */
	double value;                   /* /set: range-checked; integral for top_k, max_tokens */
	char *text;                     /* /system, /save, /load, /export: malloc'd, or NULL */
};

/* Parse a typed line. Returns 1 when the line is not a command (it does
 * not start with '/', or starts with "//", an escaped slash: the message is
 * then the line minus one slash), 0 when *out holds a command (free it with
 * ui_command_free), -1 with a one-line reason in err. A command is named
 * exactly, by alias, or by a unique prefix. */
int  ui_cmd_parse(const char *line, struct ui_command *out, char *err, size_t errlen);
void ui_command_free(struct ui_command *c);
const struct ui_cmd_def *ui_cmd_find(enum ui_cmd_id id);

/* Names of the /set keys, for help and completion. */
extern const char *const ui_set_names[];

/* Completion: the index-th candidate for the word at line[start..point)
 * (word = line + start), or NULL when there are no more. Command names
 * come back with their slash. *files is set when the word is a file name
 * (the caller completes file names instead). */
const char *ui_cmd_complete(const char *line, size_t start, const char *word, int index, bool *files);

#endif
