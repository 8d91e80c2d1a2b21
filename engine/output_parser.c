/* A small state machine over (token id, text) pairs: text goes to the
 * current channel until a tag token moves it on; inside a tool call the
 * name, keys and values are collected and the call is handed out whole
 * when it closes. A call that breaks off (an unexpected tag, stray text, the
 * end of output) is given back as the text it was, so nothing is lost. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/output_parser.h"
#include "engine/json_py.h"

enum state {
	ST_TEXT,
	ST_NAME,          /* after <tool_call> */
	ST_KEY,           /* after <arg_key> */
	ST_AFTER_KEY,     /* after </arg_key>: expects <arg_value> */
	ST_VALUE,         /* after <arg_value> */
	ST_AFTER_VALUE,   /* after </arg_value>: expects <arg_key> or </tool_call> */
};

struct glm_output_parser {
	struct glm_output_tags tags;
	enum glm_channel channel;
	enum state state;
	glm_output_fn on_event;
	void *user;

	struct json_py_buf name, key, value;
	struct json_py_buf raw;          /* the open call as text, to give back */
	cJSON *args;

	struct json_py_buf text[2];      /* indexed by channel */
	struct glm_tool_call *calls;
	size_t n_calls, cap_calls;
	bool failed;
};

void glm_output_tags_lookup(const struct glm_chat_format *f, const struct glm_tokenizer *t,
                            struct glm_output_tags *tags)
{
	static const char *const keys[] = {
		"think_begin", "think_end", "tool_call_begin", "tool_call_end",
		"arg_key_begin", "arg_key_end", "arg_value_begin", "arg_value_end",
	};
	int32_t *ids[] = {
		&tags->think_begin, &tags->think_end, &tags->tool_call_begin, &tags->tool_call_end,
		&tags->arg_key_begin, &tags->arg_key_end, &tags->arg_value_begin, &tags->arg_value_end,
	};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *s = glm_chat_format_string(f, keys[i]);
		*ids[i] = s ? glm_token_lookup(t, s) : -1;
	}
}

struct glm_output_parser *glm_output_parser_new(const struct glm_output_tags *tags, bool starts_in_reasoning,
                                                glm_output_fn on_event, void *user)
{
	struct glm_output_parser *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->tags = *tags;
	p->channel = starts_in_reasoning ? GLM_CHANNEL_REASONING : GLM_CHANNEL_ANSWER;
	p->on_event = on_event;
	p->user = user;
	return p;
}

static void reset_call(struct glm_output_parser *p)
{
	json_py_buf_free(&p->name);
	json_py_buf_free(&p->key);
	json_py_buf_free(&p->value);
	json_py_buf_free(&p->raw);
	cJSON_Delete(p->args);
	p->args = NULL;
	p->state = ST_TEXT;
}

void glm_output_parser_free(struct glm_output_parser *p)
{
	if (!p)
		return;
	reset_call(p);
	json_py_buf_free(&p->text[0]);
	json_py_buf_free(&p->text[1]);
	for (size_t i = 0; i < p->n_calls; i++) {
		free(p->calls[i].name);
		free(p->calls[i].arguments_json);
	}
	free(p->calls);
	free(p);
}

static void emit_text(struct glm_output_parser *p, const char *s, size_t n)
{
	if (!n)
		return;
	json_py_buf_put(&p->text[p->channel], s, n);
	if (p->on_event) {
		struct glm_output_event ev = { GLM_OUTPUT_TEXT, p->channel, s, n, NULL };
		p->on_event(&ev, p->user);
	}
}

/* The open call was not a call after all: its text goes back to the channel. */
static void abandon_call(struct glm_output_parser *p)
{
	struct json_py_buf raw = p->raw;

	p->raw = (struct json_py_buf){0};
	reset_call(p);
	emit_text(p, raw.data, raw.len);
	json_py_buf_free(&raw);
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

/* A value that reads as JSON other than a string becomes that value. */
static cJSON *arg_value(const char *s, size_t n)
{
	char err[8];
	cJSON *v = json_py_parse(s, n, err, sizeof err);

	if (v && !cJSON_IsString(v))
		return v;
	cJSON_Delete(v);
	char *copy = malloc(n + 1);      /* the raw text, as a string */
	if (!copy)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = '\0';
	v = cJSON_CreateString(copy);
	free(copy);
	return v;
}

static int add_arg(struct glm_output_parser *p)
{
	char *key = json_py_buf_take(&p->key, NULL);
	cJSON *v;

	if (!key)
		return -1;
	if (!p->args && !(p->args = cJSON_CreateObject())) {
		free(key);
		return -1;
	}
	v = arg_value(p->value.data ? p->value.data : "", p->value.len);
	json_py_buf_free(&p->value);
	if (!v) {
		free(key);
		return -1;
	}
	/* a repeated key keeps its first place and takes the last value */
	if (cJSON_GetObjectItemCaseSensitive(p->args, key))
		cJSON_ReplaceItemInObjectCaseSensitive(p->args, key, v);
	else
		cJSON_AddItemToObject(p->args, key, v);
	free(key);
	return 0;
}

static int finish_call(struct glm_output_parser *p)
{
	struct glm_tool_call tc = {0};
	struct json_py_buf args = {0};
	size_t n;
	char *name = json_py_buf_take(&p->name, &n), *s;

	if (!name)
		return -1;
	/* the name without surrounding whitespace */
	for (s = name; *s && strchr(" \t\r\n", *s); s++)
		;
	while (n > (size_t)(s - name) && strchr(" \t\r\n", name[n - 1]))
		name[--n] = '\0';
	memmove(name, s, strlen(s) + 1);
	tc.name = name;
	if (p->args)
		json_py_dump(p->args, JSON_PY_SOURCE, &args);
	else
		json_py_buf_puts(&args, "{}");
	tc.arguments_json = json_py_buf_take(&args, NULL);
	if (!tc.arguments_json) {
		free(tc.name);
		return -1;
	}
	if (p->n_calls == p->cap_calls) {
		size_t cap = p->cap_calls ? p->cap_calls * 2 : 4;
		struct glm_tool_call *c = realloc(p->calls, cap * sizeof *c);
		if (!c) {
			free(tc.name);
			free(tc.arguments_json);
			return -1;
		}
		p->calls = c;
		p->cap_calls = cap;
	}
	p->calls[p->n_calls++] = tc;
	reset_call(p);
	if (p->on_event) {
		struct glm_output_event ev = { GLM_OUTPUT_TOOL_CALL, p->channel, NULL, 0, &p->calls[p->n_calls - 1] };
		p->on_event(&ev, p->user);
	}
	return 0;
}

/* Inside a call: 1 = consumed, 0 = not part of a call (abandon it). */
static int call_step(struct glm_output_parser *p, int32_t tok, const char *text, size_t len)
{
	const struct glm_output_tags *t = &p->tags;
	bool tag = tok >= 0 && (tok == t->think_begin || tok == t->think_end || tok == t->tool_call_begin ||
	                        tok == t->tool_call_end || tok == t->arg_key_begin || tok == t->arg_key_end ||
	                        tok == t->arg_value_begin || tok == t->arg_value_end);

	switch (p->state) {
	case ST_NAME:
		if (!tag) {
			json_py_buf_put(&p->name, text, len);
			return 1;
		}
		if (tok == t->arg_key_begin) {
			p->state = ST_KEY;
			return 1;
		}
		if (tok == t->tool_call_end)
			return finish_call(p) ? -1 : 1;
		return 0;
	case ST_KEY:
		if (!tag) {
			json_py_buf_put(&p->key, text, len);
			return 1;
		}
		if (tok == t->arg_key_end) {
			p->state = ST_AFTER_KEY;
			return 1;
		}
		return 0;
	case ST_AFTER_KEY:
		if (!tag)
			return is_blank(text, len);
		if (tok == t->arg_value_begin) {
			p->state = ST_VALUE;
			return 1;
		}
		return 0;
	case ST_VALUE:
		if (!tag) {
			json_py_buf_put(&p->value, text, len);
			return 1;
		}
		if (tok == t->arg_value_end) {
			p->state = ST_AFTER_VALUE;
			return add_arg(p) ? -1 : 1;
		}
		return 0;
	case ST_AFTER_VALUE:
		if (!tag)
			return is_blank(text, len);
		if (tok == t->arg_key_begin) {
			p->state = ST_KEY;
			return 1;
		}
		if (tok == t->tool_call_end)
			return finish_call(p) ? -1 : 1;
		return 0;
	case ST_TEXT:
		break;
	}
	return 0;
}

int glm_output_parser_push(struct glm_output_parser *p, int32_t tok, const char *text, size_t len)
{
	const struct glm_output_tags *t = &p->tags;

	if (!text)
		len = 0, text = "";
	if (p->state != ST_TEXT) {
		json_py_buf_put(&p->raw, text, len);
		int r = call_step(p, tok, text, len);
		if (r < 0)
			p->failed = true;
		if (r)
			return p->failed ? -1 : 0;
		/* not a call after all: give its text back, then read this token
		 * again as ordinary output (it may be </think> or a new call) */
		p->raw.len -= len;
		abandon_call(p);
	}
	if (tok >= 0 && tok == t->think_end) {
		p->channel = GLM_CHANNEL_ANSWER;
	} else if (tok >= 0 && tok == t->think_begin) {
		p->channel = GLM_CHANNEL_REASONING;
	} else if (tok >= 0 && tok == t->tool_call_begin) {
		p->state = ST_NAME;
		json_py_buf_put(&p->raw, text, len);
	} else {
		emit_text(p, text, len);
	}
	if (p->raw.failed || p->text[0].failed || p->text[1].failed || p->name.failed ||
	    p->key.failed || p->value.failed)
		p->failed = true;
	return p->failed ? -1 : 0;
}

int glm_output_parser_finish(struct glm_output_parser *p)
{
	if (p->state != ST_TEXT)
		abandon_call(p);
	return p->failed || p->text[0].failed || p->text[1].failed ? -1 : 0;
}

enum glm_channel glm_output_parser_channel(const struct glm_output_parser *p)
{
	return p->channel;
}

static const char *buf_str(const struct json_py_buf *b)
{
	if (!b->data)
		return "";
	b->data[b->len] = '\0';       /* the buffer always keeps room for it */
	return b->data;
}

const char *glm_output_parser_reasoning(const struct glm_output_parser *p)
{
	return buf_str(&p->text[GLM_CHANNEL_REASONING]);
}

const char *glm_output_parser_content(const struct glm_output_parser *p)
{
	return buf_str(&p->text[GLM_CHANNEL_ANSWER]);
}

const struct glm_tool_call *glm_output_parser_calls(const struct glm_output_parser *p, size_t *n)
{
	*n = p->n_calls;
	return p->calls;
}
