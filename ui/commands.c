/* The slash-command table and its parser; see commands.h. */
#include "ui/commands.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ui_cmd_def ui_cmd_table[] = {
	{ "help",      NULL,   UI_CMD_HELP,      UI_ARGS_NONE,     "/help",                "keys and commands" },
	{ "clear",     NULL,   UI_CMD_CLEAR,     UI_ARGS_NONE,     "/clear",               "start a new conversation" },
	{ "system",    NULL,   UI_CMD_SYSTEM,    UI_ARGS_TEXT_OPT, "/system [TEXT]",       "set the system prompt (none: show it)" },
	{ "think",     NULL,   UI_CMD_THINK,     UI_ARGS_ONOFF,    "/think on|off",        "let the model reason before answering (template switch)" },
	{ "reasoning", NULL,   UI_CMD_REASONING, UI_ARGS_SHOWHIDE, "/reasoning show|hide [N]", "show or collapse the reasoning of answer N, or all (display only; Ctrl-T)" },
	{ "set",       NULL,   UI_CMD_SET,       UI_ARGS_SET,      "/set NAME VALUE",      "sampling: temp, top_p, top_k, min_p, max_tokens (-1: no limit)" },
	{ "regen",     NULL,   UI_CMD_REGEN,     UI_ARGS_NONE,     "/regen",               "answer the last message again" },
	{ "edit",      NULL,   UI_CMD_EDIT,      UI_ARGS_NONE,     "/edit",                "edit and resend the last message" },
	{ "copy",      NULL,   UI_CMD_COPY,      UI_ARGS_NONE,     "/copy",                "copy the last answer (OSC 52, and wl-copy, xclip, xsel or pbcopy)" },
	{ "save",      NULL,   UI_CMD_SAVE,      UI_ARGS_FILE_OPT, "/save [FILE]",         "save the conversation" },
	{ "load",      NULL,   UI_CMD_LOAD,      UI_ARGS_FILE,     "/load FILE",           "load a saved conversation" },
	{ "export",    NULL,   UI_CMD_EXPORT,    UI_ARGS_FILE,     "/export FILE.md",      "write the conversation as Markdown" },
	{ "stats",     NULL,   UI_CMD_STATS,     UI_ARGS_NONE,     "/stats",               "per-turn statistics and speed plot" },
	{ "quit",      "exit", UI_CMD_QUIT,      UI_ARGS_NONE,     "/quit",                "leave (also /exit, Ctrl-D)" },
};
const size_t ui_cmd_count = sizeof ui_cmd_table / sizeof ui_cmd_table[0];

const char *const ui_set_names[] = { "temp", "top_p", "top_k", "min_p", "max_tokens", NULL };

/* Ranges of the /set values; integral ones are marked. */
static const struct { double lo, hi; bool integral; } set_range[] = {
	[UI_SET_TEMP] = { 0, 100, false },
	[UI_SET_TOP_P] = { 0, 1, false },
	[UI_SET_TOP_K] = { 0, 1e9, true },
	[UI_SET_MIN_P] = { 0, 1, false },
	[UI_SET_MAX_TOKENS] = { -1, 1e9, true },
};

const struct ui_cmd_def *ui_cmd_find(enum ui_cmd_id id)
{
	for (size_t i = 0; i < ui_cmd_count; i++)
		if (ui_cmd_table[i].id == id)
			return &ui_cmd_table[i];
	return NULL;
}

/* Exact name or alias first, then a unique prefix of a name. */
static const struct ui_cmd_def *lookup(const char *name, size_t n, int *ambiguous)
{
	const struct ui_cmd_def *hit = NULL;
	int hits = 0;

	*ambiguous = 0;
	for (size_t i = 0; i < ui_cmd_count; i++) {
		const struct ui_cmd_def *d = &ui_cmd_table[i];
		if ((strlen(d->name) == n && !strncmp(d->name, name, n)) ||
		    (d->alias && strlen(d->alias) == n && !strncmp(d->alias, name, n)))
			return d;
	}
	for (size_t i = 0; i < ui_cmd_count; i++) {
		if (!strncmp(ui_cmd_table[i].name, name, n)) {
			hit = &ui_cmd_table[i];
			hits++;
		}
	}
	if (hits > 1) {
		*ambiguous = 1;
		return NULL;
	}
	return hit;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The text with trailing white space removed, malloc'd. */
static char *dup_trimmed(const char *s)
{
	size_t n = strlen(s);
	char *d;

	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* The next space-delimited word of s into w (at most wsize-1 bytes). */
static const char *word(const char *s, char *w, size_t wsize)
{
	size_t n = 0;

	s = skip_space(s);
	while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
		if (n + 1 < wsize)
			w[n++] = *s;
		s++;
	}
	w[n] = '\0';
	return s;
}

static int parse_value(const char *s, enum ui_set_key key, double *out)
{
	char *end;
	double v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || isnan(v) || v < set_range[key].lo || v > set_range[key].hi)
		return -1;
	if (set_range[key].integral && v != floor(v))
		return -1;
	*out = v;
	return 0;
}

int ui_cmd_parse(const char *line, struct ui_command *out, char *err, size_t errlen)
{
	const struct ui_cmd_def *d;
	const char *p, *name;
	char w[64], w2[64];
	int ambiguous;
	size_t n;

	memset(out, 0, sizeof *out);
	line = skip_space(line);
	if (line[0] != '/' || line[1] == '/')
		return 1;
	name = line + 1;
	for (n = 0; name[n] && !isspace((unsigned char)name[n]); n++)
		;
	if (n == 0) {
		snprintf(err, errlen, "a command name must follow '/' (try /help)");
		return -1;
	}
	d = lookup(name, n, &ambiguous);
	if (!d) {
		snprintf(err, errlen, "%s command /%.*s (try /help)",
		         ambiguous ? "ambiguous" : "unknown", (int)(n > 40 ? 40 : n), name);
		return -1;
	}
	out->id = d->id;
	p = skip_space(name + n);

	switch (d->args) {
	case UI_ARGS_NONE:
		if (*skip_space(p) && *skip_space(p) != '\n') {
			snprintf(err, errlen, "/%s takes no arguments (usage: %s)", d->name, d->usage);
			return -1;
		}
		return 0;
	case UI_ARGS_ONOFF:
	case UI_ARGS_SHOWHIDE: {
		const char *yes = d->args == UI_ARGS_ONOFF ? "on" : "show";
		const char *no = d->args == UI_ARGS_ONOFF ? "off" : "hide";

		p = word(p, w, sizeof w);
		if (strcmp(w, yes) && strcmp(w, no)) {
			snprintf(err, errlen, "usage: %s", d->usage);
			return -1;
		}
		out->flag = !strcmp(w, yes);
		if (d->args == UI_ARGS_SHOWHIDE && *skip_space(p)) {
			/* one answer: its number, as the reasoning line shows it */
			char *end;
			long v;

			p = word(p, w2, sizeof w2);
			errno = 0;
			v = strtol(w2, &end, 10);
			if (errno || *end || end == w2 || v < 1 || v > 1000000 || *skip_space(p)) {
				snprintf(err, errlen, "usage: %s (N: the answer's number, from 1)", d->usage);
				return -1;
			}
			out->turn = (int)v;
		}
		if (*skip_space(p)) {
			snprintf(err, errlen, "usage: %s", d->usage);
			return -1;
		}
		return 0;
	}
	case UI_ARGS_SET:
		p = word(p, w, sizeof w);
		p = word(p, w2, sizeof w2);
		for (int k = 0; ui_set_names[k]; k++) {
			if (strcmp(w, ui_set_names[k]))
				continue;
			out->key = (enum ui_set_key)k;
			if (*skip_space(p) || parse_value(w2, out->key, &out->value)) {
				snprintf(err, errlen, "/set %s: want a %s from %g to %g", w,
				         set_range[k].integral ? "whole number" : "number",
				         set_range[k].lo, set_range[k].hi);
				return -1;
			}
			return 0;
		}
		snprintf(err, errlen, "usage: %s, NAME one of temp top_p top_k min_p max_tokens", d->usage);
		return -1;
	case UI_ARGS_TEXT:
	case UI_ARGS_FILE:
		if (!*skip_space(p)) {
			snprintf(err, errlen, "usage: %s", d->usage);
			return -1;
		}
		/* fall through */
	case UI_ARGS_TEXT_OPT:
	case UI_ARGS_FILE_OPT:
		if (*p) {
			out->text = dup_trimmed(p);
			if (!out->text) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			if (!out->text[0]) {
				free(out->text);
				out->text = NULL;
			}
		}
		return 0;
	}
	snprintf(err, errlen, "usage: %s", d->usage);
	return -1;
}

void ui_command_free(struct ui_command *c)
{
	free(c->text);
	c->text = NULL;
}

const char *ui_cmd_complete(const char *line, size_t start, const char *wordp, int index, bool *files)
{
	static char buf[64];
	size_t wl = strlen(wordp);
	const char *const *values = NULL;
	static const char *const onoff[] = { "on", "off", NULL };
	static const char *const showhide[] = { "show", "hide", NULL };
	const char *p = skip_space(line);
	const struct ui_cmd_def *d;
	char name[32];
	int ambiguous, k = 0;
	size_t n;

	*files = false;
	if ((size_t)(p - line) == start) {
		/* the first word: command names, with their slash */
		if (wordp[0] != '/')
			return NULL;
		for (size_t i = 0; i < ui_cmd_count; i++) {
			const char *names[2] = { ui_cmd_table[i].name, ui_cmd_table[i].alias };
			for (int j = 0; j < 2; j++) {
				if (!names[j] || strncmp(names[j], wordp + 1, wl - 1))
					continue;
				if (k++ == index) {
					snprintf(buf, sizeof buf, "/%s", names[j]);
					return buf;
				}
			}
		}
		return NULL;
	}
	if (*p != '/')
		return NULL;
	p = word(p + 1, name, sizeof name);
	n = strlen(name);
	d = lookup(name, n, &ambiguous);
	if (!d)
		return NULL;
	/* only the first argument is completed */
	if (start != (size_t)(skip_space(p) - line))
		return NULL;
	switch (d->args) {
	case UI_ARGS_ONOFF:
		values = onoff;
		break;
	case UI_ARGS_SHOWHIDE:
		values = showhide;
		break;
	case UI_ARGS_SET:
		values = ui_set_names;
		break;
	case UI_ARGS_FILE:
	case UI_ARGS_FILE_OPT:
		*files = true;
		return NULL;
	default:
		return NULL;
	}
	for (int i = 0; values[i]; i++)
		if (!strncmp(values[i], wordp, wl) && k++ == index)
			return values[i];
	return NULL;
}
