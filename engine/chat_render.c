/* Walking a conversation the way the official GLM-4.7 chat template does.
 * The fixed strings come from the format's data file; the logic here is
 * the template's: tools first, reasoning shown only after the last user
 * message (or always with clear_thinking off), inline <think> split out of
 * assistant content, Python's str.strip(), consecutive tool results under
 * one <|observation|>. Text from messages and tools always lands in plain
 * segments, so it can never become a control token. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/chat_format.h"
#include "engine/json_py.h"

struct out {
	struct glm_rendered *r;
	const struct glm_chat_format *f;
	struct json_py_buf cur;      /* the segment being built */
	bool cur_special;
	bool failed;
};

void glm_render_opts_default(struct glm_render_opts *o)
{
	o->enable_thinking = true;
	o->clear_thinking = true;
	o->add_generation_prompt = true;
}

/* Closes the current segment. */
static void flush(struct out *o)
{
	struct glm_rendered *r = o->r;
	size_t len;
	char *text;

	if (!o->cur.len && !o->cur.failed)
		return;
	text = json_py_buf_take(&o->cur, &len);
	if (!text) {
		o->failed = true;
		return;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct glm_segment *s = realloc(r->seg, cap * sizeof *s);
		if (!s) {
			free(text);
			o->failed = true;
			return;
		}
		r->seg = s;
		r->cap = cap;
	}
	r->seg[r->n++] = (struct glm_segment){ text, len, o->cur_special };
}

/* Adjacent pieces of one kind share a segment, so plain text that meets
 * across a template string is tokenized as the one run it is. */
static void put(struct out *o, const char *s, size_t n, bool special)
{
	if (!n)
		return;
	if (special != o->cur_special) {
		flush(o);
		o->cur_special = special;
	}
	json_py_buf_put(&o->cur, s, n);
}

static void put_text(struct out *o, const char *s, size_t n)
{
	put(o, s, n, false);
}

/* The buffer to serialise JSON into, as plain text. */
static struct json_py_buf *plain_buf(struct out *o)
{
	if (o->cur_special) {
		flush(o);
		o->cur_special = false;
	}
	return &o->cur;
}

/* A string of the template itself: its control-token texts go to special
 * segments, the rest to plain ones. */
static void put_template(struct out *o, enum glm_fmt_key key)
{
	const struct glm_chat_format *f = o->f;
	const char *s = f->s[key], *run = s;

	while (*s) {
		size_t best = 0;
		for (size_t i = 0; i < f->n_specials; i++) {
			size_t n = strlen(f->specials[i]);
			if (n > best && !strncmp(s, f->specials[i], n))
				best = n;
		}
		if (!best) {
			s++;
			continue;
		}
		put_text(o, run, (size_t)(s - run));
		put(o, s, best, true);
		s += best;
		run = s;
	}
	put_text(o, run, (size_t)(s - run));
}

/* ---- Python string helpers over (pointer, length) ---- */

struct str { const char *p; size_t n; };

static struct str str_of(const char *s)
{
	return (struct str){ s ? s : "", s ? strlen(s) : 0 };
}

/* str.isspace() for one code point. */
static bool py_space(unsigned c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Code point of the UTF-8 sequence of n bytes at p (invalid: -1). */
static long decode(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] < 0x80 ? p[0] : -1;
	if (n == 2 && (p[0] & 0xe0) == 0xc0)
		return (long)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	if (n == 3 && (p[0] & 0xf0) == 0xe0)
		return (long)(p[0] & 0x0f) << 12 | (long)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	return -1;   /* none of the spaces needs four bytes */
}

static size_t seq_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* str.strip() */
static struct str py_strip(struct str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t b = 0, e = s.n;

	while (b < e) {
		size_t n = seq_len(p[b]);
		long c = n <= e - b ? decode(p + b, n) : -1;
		if (c < 0 || !py_space((unsigned)c))
			break;
		b += n;
	}
	while (e > b) {
		size_t st = e - 1;
		while (st > b && (p[st] & 0xc0) == 0x80 && e - st < 4)
			st--;
		long c = decode(p + st, e - st);
		if (c < 0 || !py_space((unsigned)c))
			break;
		e = st;
	}
	return (struct str){ s.p + b, e - b };
}

static struct str strip_nl_left(struct str s)
{
	while (s.n && s.p[0] == '\n')
		s.p++, s.n--;
	return s;
}

static struct str strip_nl_right(struct str s)
{
	while (s.n && s.p[s.n - 1] == '\n')
		s.n--;
	return s;
}

/* First / last occurrence of needle in s, or NULL. */
static const char *find_first(struct str s, const char *needle)
{
	size_t m = strlen(needle);
	return m ? memmem(s.p, s.n, needle, m) : NULL;
}

static const char *find_last(struct str s, const char *needle)
{
	const char *last = NULL, *p;
	size_t m = strlen(needle);

	while (m && (p = memmem(s.p, s.n, needle, m))) {
		last = p;
		s.n -= (size_t)(p + 1 - s.p);
		s.p = p + 1;
	}
	return last;
}

/* ---- the walk ---- */

static int render_tools(struct out *o, const char *tools_json, char *err, size_t errlen)
{
	char jerr[128];
	cJSON *tools;

	if (!tools_json)
		return 0;
	tools = json_py_parse(tools_json, strlen(tools_json), jerr, sizeof jerr);
	if (!tools || !cJSON_IsArray(tools)) {
		snprintf(err, errlen, "tools: %s", tools ? "not a JSON array" : jerr);
		cJSON_Delete(tools);
		return -1;
	}
	if (tools->child) {     /* `if tools`: an empty list renders nothing */
		put_template(o, FMT_TOOLS_BEGIN);
		for (const cJSON *t = tools->child; t; t = t->next) {
			json_py_dump(t, JSON_PY_DUMPS, plain_buf(o));
			put_template(o, FMT_TOOL_SEPARATOR);
		}
		put_template(o, FMT_TOOLS_END);
	}
	cJSON_Delete(tools);
	return 0;
}

static int render_tool_call(struct out *o, const struct glm_tool_call *tc, char *err, size_t errlen)
{
	char jerr[128];
	cJSON *args = NULL;

	if (tc->arguments_json) {
		args = json_py_parse(tc->arguments_json, strlen(tc->arguments_json), jerr, sizeof jerr);
		if (!args || !cJSON_IsObject(args)) {
			snprintf(err, errlen, "tool call '%s': arguments: %s", tc->name ? tc->name : "",
			         args ? "not a JSON object" : jerr);
			cJSON_Delete(args);
			return -1;
		}
	}
	put_template(o, FMT_TOOL_CALL_BEGIN);
	put_text(o, tc->name ? tc->name : "", tc->name ? strlen(tc->name) : 0);
	for (const cJSON *a = args ? args->child : NULL; a; a = a->next) {
		put_template(o, FMT_ARG_KEY_BEGIN);
		put_text(o, a->string, strlen(a->string));
		put_template(o, FMT_ARG_KEY_END);
		put_template(o, FMT_ARG_VALUE_BEGIN);
		if (cJSON_IsString(a)) {
			put_text(o, a->valuestring, strlen(a->valuestring));
		} else {
			json_py_dump(a, JSON_PY_DUMPS, plain_buf(o));
		}
		put_template(o, FMT_ARG_VALUE_END);
	}
	put_template(o, FMT_TOOL_CALL_END);
	cJSON_Delete(args);
	return 0;
}

static int render_assistant(struct out *o, const struct glm_message *m, bool show_reasoning,
                            char *err, size_t errlen)
{
	const struct glm_chat_format *f = o->f;
	struct str content = str_of(m->content), reasoning = str_of(m->reasoning);

	put_template(o, FMT_ASSISTANT);
	if (!m->reasoning && find_first(content, f->s[FMT_THINK_END])) {
		/* reasoning = content.split('</think>')[0].rstrip('\n')
		 *             .split('<think>')[-1].lstrip('\n')
		 * content   = content.split('</think>')[-1].lstrip('\n') */
		const char *end = find_first(content, f->s[FMT_THINK_END]);
		struct str before = strip_nl_right((struct str){ content.p, (size_t)(end - content.p) });
		const char *open = find_last(before, f->s[FMT_THINK_BEGIN]);
		if (open) {
			size_t skip = (size_t)(open - before.p) + strlen(f->s[FMT_THINK_BEGIN]);
			before.p += skip;
			before.n -= skip;
		}
		reasoning = strip_nl_left(before);
		const char *last = find_last(content, f->s[FMT_THINK_END]) + strlen(f->s[FMT_THINK_END]);
		content = strip_nl_left((struct str){ last, content.n - (size_t)(last - content.p) });
	}
	if (show_reasoning && reasoning.n) {
		struct str r = py_strip(reasoning);
		put_template(o, FMT_THINK_BEGIN);
		put_text(o, r.p, r.n);
		put_template(o, FMT_THINK_END);
	} else {
		put_template(o, FMT_THINK_END);
	}
	content = py_strip(content);
	put_text(o, content.p, content.n);
	for (size_t i = 0; i < m->n_tool_calls; i++)
		if (render_tool_call(o, &m->tool_calls[i], err, errlen))
			return -1;
	return 0;
}

static void render_tool(struct out *o, const struct glm_message *m, bool after_tool)
{
	if (m->content_list) {
		put_template(o, FMT_OBSERVATION);
		for (size_t i = 0; i < m->n_parts; i++) {
			put_template(o, FMT_TOOL_RESPONSE_BEGIN);
			put_text(o, m->parts[i], strlen(m->parts[i]));
			put_template(o, FMT_TOOL_RESPONSE_END);
		}
		return;
	}
	if (!after_tool)
		put_template(o, FMT_OBSERVATION);
	put_template(o, FMT_TOOL_RESPONSE_BEGIN);
	put_text(o, m->content ? m->content : "", m->content ? strlen(m->content) : 0);
	put_template(o, FMT_TOOL_RESPONSE_END);
}

int glm_chat_render(const struct glm_chat_format *f, const struct glm_conversation *c,
                    const struct glm_render_opts *opts, struct glm_rendered *out, char *err, size_t errlen)
{
	struct out o = { .r = out, .f = f };
	struct glm_render_opts defaults;
	size_t last_user = SIZE_MAX;
	int rc = 0;

	if (!opts) {
		glm_render_opts_default(&defaults);
		opts = &defaults;
	}
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < c->n; i++)
		if (c->msgs[i].role == GLM_ROLE_USER)
			last_user = i;

	put_template(&o, FMT_PREFIX);
	rc = render_tools(&o, c->tools_json, err, errlen);
	for (size_t i = 0; i < c->n && !rc; i++) {
		const struct glm_message *m = &c->msgs[i];
		const char *text = m->content ? m->content : "";
		switch (m->role) {
		case GLM_ROLE_SYSTEM:
			put_template(&o, FMT_SYSTEM);
			put_text(&o, text, strlen(text));
			break;
		case GLM_ROLE_USER:
			put_template(&o, FMT_USER);
			put_text(&o, text, strlen(text));
			break;
		case GLM_ROLE_ASSISTANT:
			rc = render_assistant(&o, m, !opts->clear_thinking ||
			                      last_user == SIZE_MAX || i > last_user, err, errlen);
			break;
		case GLM_ROLE_TOOL:
			render_tool(&o, m, i > 0 && c->msgs[i - 1].role == GLM_ROLE_TOOL);
			break;
		default:
			snprintf(err, errlen, "message %zu: unknown role", i);
			rc = -1;
		}
	}
	if (!rc && opts->add_generation_prompt)
		put_template(&o, opts->enable_thinking ? FMT_GENERATION_THINK : FMT_GENERATION_NO_THINK);
	flush(&o);
	if (!rc && (o.failed || o.cur.failed)) {
		snprintf(err, errlen, "out of memory rendering the conversation");
		rc = -1;
	}
	json_py_buf_free(&o.cur);
	if (rc)
		glm_rendered_free(out);
	return rc;
}

void glm_rendered_free(struct glm_rendered *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->seg[i].text);
	free(r->seg);
	memset(r, 0, sizeof *r);
}

char *glm_rendered_text(const struct glm_rendered *r, size_t *len)
{
	size_t total = 0;
	char *s, *p;

	for (size_t i = 0; i < r->n; i++)
		total += r->seg[i].len;
	s = p = malloc(total + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		memcpy(p, r->seg[i].text, r->seg[i].len);
		p += r->seg[i].len;
	}
	*p = '\0';
	if (len)
		*len = total;
	return s;
}

bool glm_rendered_ends_in_reasoning(const struct glm_rendered *r, const struct glm_chat_format *f)
{
	const char *open = f->s[FMT_THINK_BEGIN];
	size_t n = strlen(open);
	const struct glm_segment *last;

	if (!r->n)
		return false;
	last = &r->seg[r->n - 1];
	return last->special && last->len >= n && !memcmp(last->text + last->len - n, open, n);
}

int glm_rendered_tokenize(const struct glm_rendered *r, const struct glm_tokenizer *t,
                          int32_t **ids, size_t *n)
{
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (glm_tokenize(t, r->seg[i].text, r->seg[i].len, r->seg[i].special, ids, n, &cap)) {
			free(*ids);
			*ids = NULL;
			*n = 0;
			return -1;
		}
	}
	return 0;
}
