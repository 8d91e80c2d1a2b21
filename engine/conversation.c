/* Conversations: building them, and reading the OpenAI-style JSON of
 * `glmchat render` ({"messages":[...], "tools":[...], options}). The JSON is
 * checked strictly: wrong types and unknown roles are errors, never
 * silently rendered. Content given as a list of parts is flattened the way
 * the template's visible_text() does it; tool-call arguments and tool
 * definitions are kept as JSON text that reads back to the same values. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/json_py.h"

static const char *const role_names[] = {
	[GLM_ROLE_SYSTEM] = "system", [GLM_ROLE_USER] = "user",
	[GLM_ROLE_ASSISTANT] = "assistant", [GLM_ROLE_TOOL] = "tool",
};

const char *glm_role_name(enum glm_role role)
{
	return (unsigned)role < sizeof role_names / sizeof role_names[0] ? role_names[role] : "?";
}

void glm_conversation_init(struct glm_conversation *c)
{
	memset(c, 0, sizeof *c);
}

static void message_free(struct glm_message *m)
{
	free(m->content);
	free(m->reasoning);
	for (size_t i = 0; i < m->n_tool_calls; i++) {
		free(m->tool_calls[i].name);
		free(m->tool_calls[i].arguments_json);
	}
	free(m->tool_calls);
	for (size_t i = 0; i < m->n_parts; i++)
		free(m->parts[i]);
	free(m->parts);
}

void glm_conversation_free(struct glm_conversation *c)
{
	for (size_t i = 0; i < c->n; i++)
		message_free(&c->msgs[i]);
	free(c->msgs);
	free(c->tools_json);
	memset(c, 0, sizeof *c);
}

struct glm_message *glm_conversation_add(struct glm_conversation *c, enum glm_role role,
                                         const char *content, const char *reasoning)
{
	struct glm_message m = { .role = role };

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct glm_message *p = realloc(c->msgs, cap * sizeof *p);
		if (!p)
			return NULL;
		c->msgs = p;
		c->cap = cap;
	}
	if ((content && !(m.content = strdup(content))) || (reasoning && !(m.reasoning = strdup(reasoning)))) {
		message_free(&m);
		return NULL;
	}
	c->msgs[c->n] = m;
	return &c->msgs[c->n++];
}

int glm_message_add_tool_call(struct glm_message *m, const char *name, const char *arguments_json)
{
	struct glm_tool_call tc = {0};
	struct glm_tool_call *p;

	tc.name = strdup(name ? name : "");
	tc.arguments_json = arguments_json ? strdup(arguments_json) : NULL;
	p = realloc(m->tool_calls, (m->n_tool_calls + 1) * sizeof *p);
	if (!tc.name || (arguments_json && !tc.arguments_json) || !p) {
		free(tc.name);
		free(tc.arguments_json);
		if (p)
			m->tool_calls = p;
		return -1;
	}
	m->tool_calls = p;
	m->tool_calls[m->n_tool_calls++] = tc;
	return 0;
}

/* ---- JSON input ---- */

/* Messages name the place: "messages[3].content[1].text: not a string". */
#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static bool absent(const cJSON *v)
{
	return !v || cJSON_IsNull(v);
}

static char *take(struct json_py_buf *b)
{
	return json_py_buf_take(b, NULL);
}

/* visible_text(content) for a list: text parts and bare strings, in order. */
static int flatten_parts(const cJSON *list, size_t mi, char **out, char *err, size_t errlen)
{
	struct json_py_buf b = {0};
	size_t j = 0;

	for (const cJSON *it = list->child; it; it = it->next, j++) {
		if (cJSON_IsString(it)) {
			json_py_buf_puts(&b, it->valuestring);
		} else if (cJSON_IsObject(it)) {
			const cJSON *type = member(it, "type"), *text = member(it, "text");
			if (!cJSON_IsString(type) || strcmp(type->valuestring, "text"))
				continue;      /* images and other parts have no text to show */
			if (!text)
				continue;
			if (!cJSON_IsString(text)) {
				json_py_buf_free(&b);
				FAIL("messages[%zu].content[%zu].text: not a string", mi, j);
			}
			json_py_buf_puts(&b, text->valuestring);
		}
	}
	if (!(*out = take(&b)))
		FAIL("out of memory");
	return 0;
}

/* A tool message's list content: each part its own response, shown as the
 * template shows it (tr.output if there is one, else the part itself). */
static int tool_parts(const cJSON *list, struct glm_message *m, char *err, size_t errlen)
{
	size_t n = (size_t)cJSON_GetArraySize(list), j = 0;

	m->content_list = true;
	m->parts = calloc(n ? n : 1, sizeof *m->parts);
	if (!m->parts)
		FAIL("out of memory");
	for (const cJSON *it = list->child; it; it = it->next, j++) {
		struct json_py_buf b = {0};
		const cJSON *output = cJSON_IsObject(it) ? member(it, "output") : NULL;
		json_py_str(output ? output : it, &b);
		if (!(m->parts[j] = take(&b)))
			FAIL("out of memory");
		m->n_parts = j + 1;
	}
	return 0;
}

static int parse_content(const cJSON *content, size_t mi, struct glm_message *m, char *err, size_t errlen)
{
	if (absent(content))
		return 0;     /* no content: renders as empty (the template would print None) */
	if (cJSON_IsString(content)) {
		if (!(m->content = strdup(content->valuestring)))
			FAIL("out of memory");
		return 0;
	}
	if (!cJSON_IsArray(content))
		FAIL("messages[%zu].content: must be a string or a list of parts", mi);
	if (m->role == GLM_ROLE_TOOL)
		return tool_parts(content, m, err, errlen);
	return flatten_parts(content, mi, &m->content, err, errlen);
}

/* arguments: an object, or a string holding one. Stored as JSON text. */
static int parse_arguments(const cJSON *args, size_t mi, size_t k, char **out, char *err, size_t errlen)
{
	struct json_py_buf b = {0};
	cJSON *parsed = NULL;
	char jerr[128];

	if (absent(args))
		return 0;
	if (cJSON_IsString(args)) {
		parsed = json_py_parse(args->valuestring, strlen(args->valuestring), jerr, sizeof jerr);
		if (!parsed)
			FAIL("messages[%zu].tool_calls[%zu].arguments: %s", mi, k, jerr);
		args = parsed;
	}
	if (!cJSON_IsObject(args)) {
		cJSON_Delete(parsed);
		FAIL("messages[%zu].tool_calls[%zu].arguments: not a JSON object", mi, k);
	}
	json_py_dump(args, JSON_PY_SOURCE, &b);
	cJSON_Delete(parsed);
	if (!(*out = take(&b)))
		FAIL("out of memory");
	return 0;
}

static int parse_tool_calls(const cJSON *calls, size_t mi, struct glm_message *m, char *err, size_t errlen)
{
	size_t k = 0;

	if (absent(calls))
		return 0;
	if (!cJSON_IsArray(calls))
		FAIL("messages[%zu].tool_calls: not a list", mi);
	for (const cJSON *tc = calls->child; tc; tc = tc->next, k++) {
		const cJSON *fn, *name;
		char *args = NULL;
		if (!cJSON_IsObject(tc))
			FAIL("messages[%zu].tool_calls[%zu]: not an object", mi, k);
		/* OpenAI nests name and arguments under "function"; the template
		 * also takes them from the call itself. */
		fn = member(tc, "function");
		if (absent(fn))
			fn = tc;
		else if (!cJSON_IsObject(fn))
			FAIL("messages[%zu].tool_calls[%zu].function: not an object", mi, k);
		name = member(fn, "name");
		if (!cJSON_IsString(name))
			FAIL("messages[%zu].tool_calls[%zu]: the function name must be a string", mi, k);
		if (parse_arguments(member(fn, "arguments"), mi, k, &args, err, errlen))
			return -1;
		int rc = glm_message_add_tool_call(m, name->valuestring, args);
		free(args);
		if (rc)
			FAIL("out of memory");
	}
	return 0;
}

static int parse_message(const cJSON *jm, size_t mi, struct glm_conversation *c, char *err, size_t errlen)
{
	const cJSON *role, *reasoning;
	struct glm_message *m;
	int r;

	if (!cJSON_IsObject(jm))
		FAIL("messages[%zu]: not an object", mi);
	role = member(jm, "role");
	if (!cJSON_IsString(role))
		FAIL("messages[%zu]: role must be a string", mi);
	for (r = 0; r < 4; r++)
		if (!strcmp(role->valuestring, role_names[r]))
			break;
	if (r == 4)
		FAIL("messages[%zu]: unknown role '%.40s'", mi, role->valuestring);
	reasoning = member(jm, "reasoning_content");
	if (!absent(reasoning) && !cJSON_IsString(reasoning))
		FAIL("messages[%zu].reasoning_content: not a string", mi);
	m = glm_conversation_add(c, (enum glm_role)r, NULL, absent(reasoning) ? NULL : reasoning->valuestring);
	if (!m)
		FAIL("out of memory");
	if (parse_content(member(jm, "content"), mi, m, err, errlen))
		return -1;
	if (parse_tool_calls(member(jm, "tool_calls"), mi, m, err, errlen))
		return -1;
	if (m->role != GLM_ROLE_ASSISTANT) {
		/* only assistant turns show their calls; the others were checked */
		for (size_t i = 0; i < m->n_tool_calls; i++) {
			free(m->tool_calls[i].name);
			free(m->tool_calls[i].arguments_json);
		}
		free(m->tool_calls);
		m->tool_calls = NULL;
		m->n_tool_calls = 0;
	}
	return 0;
}

static int parse_flag(const cJSON *root, const char *key, bool *out, char *err, size_t errlen)
{
	const cJSON *v = member(root, key);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		FAIL("%s: must be true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int parse_root(const cJSON *root, struct glm_conversation *c, struct glm_render_opts *o,
                      char *err, size_t errlen)
{
	const cJSON *msgs, *tools;
	size_t mi = 0;

	if (!cJSON_IsObject(root))
		FAIL("expected a JSON object with \"messages\"");
	msgs = member(root, "messages");
	if (!msgs)
		FAIL("no \"messages\"");
	if (!cJSON_IsArray(msgs))
		FAIL("messages: not a list");
	if (parse_flag(root, "enable_thinking", &o->enable_thinking, err, errlen) ||
	    parse_flag(root, "clear_thinking", &o->clear_thinking, err, errlen) ||
	    parse_flag(root, "add_generation_prompt", &o->add_generation_prompt, err, errlen))
		return -1;
	tools = member(root, "tools");
	if (!absent(tools)) {
		struct json_py_buf b = {0};
		if (!cJSON_IsArray(tools))
			FAIL("tools: not a list");
		if (tools->child) {
			json_py_dump(tools, JSON_PY_SOURCE, &b);
			if (!(c->tools_json = take(&b)))
				FAIL("out of memory");
		}
	}
	for (const cJSON *jm = msgs->child; jm; jm = jm->next, mi++)
		if (parse_message(jm, mi, c, err, errlen))
			return -1;
	return 0;
}

int glm_conversation_from_json(const char *json, size_t len, struct glm_conversation *c,
                               struct glm_render_opts *o, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	glm_conversation_init(c);
	glm_render_opts_default(o);
	root = json_py_parse(json, len, err, errlen);
	if (!root)
		return -1;
	rc = parse_root(root, c, o, err, errlen);
	cJSON_Delete(root);
	if (rc)
		glm_conversation_free(c);
	return rc;
}
