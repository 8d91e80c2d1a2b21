/* Chat formats as data: finding and reading a format's file under
 * templates/, and recognising the model's chat template by the format's
 * distinctive strings. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/chat.h"
#include "engine/chat_format.h"

#ifndef GLMCHAT_PKGDATADIR
#define GLMCHAT_PKGDATADIR "/usr/local/share/glmchat"
#endif

/* The formats the renderer knows, by data-file name (templates/NAME.txt). */
static const char *const known_formats[] = { "glm-4.7" };

const char *const glm_fmt_key_names[FMT_N_KEYS] = {
	[FMT_PREFIX] = "prefix",
	[FMT_TOOLS_BEGIN] = "tools_begin",
	[FMT_TOOL_SEPARATOR] = "tool_separator",
	[FMT_TOOLS_END] = "tools_end",
	[FMT_SYSTEM] = "system",
	[FMT_USER] = "user",
	[FMT_ASSISTANT] = "assistant",
	[FMT_THINK_BEGIN] = "think_begin",
	[FMT_THINK_END] = "think_end",
	[FMT_TOOL_CALL_BEGIN] = "tool_call_begin",
	[FMT_TOOL_CALL_END] = "tool_call_end",
	[FMT_ARG_KEY_BEGIN] = "arg_key_begin",
	[FMT_ARG_KEY_END] = "arg_key_end",
	[FMT_ARG_VALUE_BEGIN] = "arg_value_begin",
	[FMT_ARG_VALUE_END] = "arg_value_end",
	[FMT_OBSERVATION] = "observation",
	[FMT_TOOL_RESPONSE_BEGIN] = "tool_response_begin",
	[FMT_TOOL_RESPONSE_END] = "tool_response_end",
	[FMT_GENERATION_THINK] = "generation_think",
	[FMT_GENERATION_NO_THINK] = "generation_no_think",
};

#define MAX_FORMAT_FILE (1 << 20)

void glm_chat_format_free(struct glm_chat_format *f)
{
	if (!f)
		return;
	free(f->name);
	for (int i = 0; i < FMT_N_KEYS; i++)
		free(f->s[i]);
	for (size_t i = 0; i < f->n_specials; i++)
		free(f->specials[i]);
	for (size_t i = 0; i < f->n_detect; i++)
		free(f->detect[i]);
	free(f->specials);
	free(f->detect);
	free(f);
}

const char *glm_chat_format_name(const struct glm_chat_format *f)
{
	return f->name;
}

const char *glm_chat_format_string(const struct glm_chat_format *f, const char *key)
{
	for (int i = 0; i < FMT_N_KEYS; i++)
		if (!strcmp(key, glm_fmt_key_names[i]))
			return f->s[i];
	return NULL;
}

/* The whole file, NUL-terminated; NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!fp)
		return NULL;
	buf = malloc(MAX_FORMAT_FILE + 1);
	if (!buf) {
		fclose(fp);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, MAX_FORMAT_FILE + 1, fp);
	if (ferror(fp) || n > MAX_FORMAT_FILE) {
		int e = ferror(fp) ? EIO : EFBIG;
		fclose(fp);
		free(buf);
		errno = e;
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Undo the value escapes in place; -1 on an unknown escape. */
static int unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 's': *o++ = ' '; break;
		case '\\': *o++ = '\\'; break;
		default: return -1;
		}
	}
	*o = '\0';
	return 0;
}

static int push_str(char ***arr, size_t *n, const char *s)
{
	char **a = realloc(*arr, (*n + 1) * sizeof *a);
	if (!a)
		return -1;
	*arr = a;
	if (!(a[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static int parse_format(char *text, const char *path, struct glm_chat_format *f, char *err, size_t errlen)
{
	int lineno = 0;
	char *line = text, *next;

	for (; line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		char *eq = strstr(line, " = ");
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			return -1;
		}
		*eq = '\0';
		char *key = line, *val = eq + 3;
		if (unescape(val)) {
			snprintf(err, errlen, "%s:%d: unknown escape in value", path, lineno);
			return -1;
		}
		int rc = 0;
		if (!strcmp(key, "name")) {
			free(f->name);
			rc = (f->name = strdup(val)) ? 0 : -1;
		} else if (!strcmp(key, "detect")) {
			rc = push_str(&f->detect, &f->n_detect, val);
		} else if (!strcmp(key, "special")) {
			if (!*val) {
				snprintf(err, errlen, "%s:%d: empty special", path, lineno);
				return -1;
			}
			rc = push_str(&f->specials, &f->n_specials, val);
		} else {
			int k = 0;
			while (k < FMT_N_KEYS && strcmp(key, glm_fmt_key_names[k]))
				k++;
			if (k == FMT_N_KEYS) {
				snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
				return -1;
			}
			if (f->s[k]) {
				snprintf(err, errlen, "%s:%d: key '%s' given twice", path, lineno, key);
				return -1;
			}
			rc = (f->s[k] = strdup(val)) ? 0 : -1;
		}
		if (rc) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	for (int k = 0; k < FMT_N_KEYS; k++) {
		if (!f->s[k]) {
			snprintf(err, errlen, "%s: missing key '%s'", path, glm_fmt_key_names[k]);
			return -1;
		}
	}
	if (!f->name || !f->n_detect) {
		snprintf(err, errlen, "%s: missing %s", path, f->name ? "detect strings" : "name");
		return -1;
	}
	return 0;
}

static int load_format_file(const char *path, struct glm_chat_format **out, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len);
	struct glm_chat_format *f;

	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: NUL byte in the file", path);
		free(text);
		return -1;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(text);
		return -1;
	}
	if (parse_format(text, path, f, err, errlen)) {
		free(text);
		glm_chat_format_free(f);
		return -1;
	}
	free(text);
	*out = f;
	return 0;
}

/* Copy of s without whitespace, so a re-indented template still matches. */
static char *squeeze(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;

	if (!o)
		return NULL;
	for (; *s; s++)
		if (!strchr(" \t\r\n\v\f", *s))
			*p++ = *s;
	*p = '\0';
	return o;
}

/* 1: the template is this format; 0: not; -1: out of memory. */
static int matches(const struct glm_chat_format *f, const char *squeezed_template)
{
	for (size_t i = 0; i < f->n_detect; i++) {
		char *d = squeeze(f->detect[i]);
		if (!d)
			return -1;
		bool found = strstr(squeezed_template, d) != NULL;
		free(d);
		if (!found)
			return 0;
	}
	return 1;
}

int glm_chat_format_load(const char *chat_template, const char *templates_dir,
                         struct glm_chat_format **out, char *err, size_t errlen)
{
	const char *dir = templates_dir;
	char *tpl;

	*out = NULL;
	if (!dir || !*dir)
		dir = getenv("GLMCHAT_TEMPLATES");
	if (!dir || !*dir)
		dir = GLMCHAT_PKGDATADIR "/templates";
#ifdef GLMCHAT_SOURCE_DIR
	/* Not installed yet (src/glmchat run from the build tree): the data
	 * files are still in the source tree. */
	if (!templates_dir && !getenv("GLMCHAT_TEMPLATES") && access(dir, R_OK))
		dir = GLMCHAT_SOURCE_DIR "/templates";
#endif
	if (!chat_template || !*chat_template) {
		snprintf(err, errlen, "unsupported chat template: the model has none (tokenizer.chat_template)");
		return -2;
	}
	tpl = squeeze(chat_template);
	if (!tpl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof known_formats / sizeof known_formats[0]; i++) {
		char path[4096];
		struct glm_chat_format *f;
		int m;

		if ((size_t)snprintf(path, sizeof path, "%s/%s.txt", dir, known_formats[i]) >= sizeof path) {
			snprintf(err, errlen, "%s: templates directory path too long", dir);
			free(tpl);
			return -1;
		}
		if (load_format_file(path, &f, err, errlen)) {
			free(tpl);
			return -1;
		}
		m = matches(f, tpl);
		if (m == 1) {
			free(tpl);
			*out = f;
			return 0;
		}
		glm_chat_format_free(f);
		if (m < 0) {
			snprintf(err, errlen, "out of memory");
			free(tpl);
			return -1;
		}
	}
	free(tpl);
	snprintf(err, errlen, "unsupported chat template: not GLM-4.7 (the only format glmchat knows)");
	return -2;
}
