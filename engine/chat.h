/* Conversations and the GLM-4.7 chat format. The renderer walks a
 * conversation and produces the prompt as segments: the template's own text
 * (in which control-token text such as <|user|> becomes control tokens) and
 * text that came from people or tools (always ordinary text). The format's
 * fixed strings are data under templates/. */
#ifndef GLM_CHAT_H
#define GLM_CHAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/tokenizer.h"

enum glm_role { GLM_ROLE_SYSTEM, GLM_ROLE_USER, GLM_ROLE_ASSISTANT, GLM_ROLE_TOOL };

struct glm_tool_call {
	char *name;
	char *arguments_json;        /* a JSON object, as text */
};

struct glm_message {
	enum glm_role role;
	char *content;               /* NULL = none */
	char *reasoning;             /* assistant reasoning_content, NULL = none */
	struct glm_tool_call *tool_calls;
	size_t n_tool_calls;
	/* A tool message whose content was a list: one <tool_response> per part
	 * (the template renders that form differently from a string). */
	bool content_list;
	char **parts;
	size_t n_parts;
};

struct glm_conversation {
	struct glm_message *msgs;
	size_t n, cap;
	char *tools_json;            /* JSON array of tool definitions, or NULL */
};

struct glm_render_opts {
	bool enable_thinking;        /* default true */
	bool clear_thinking;         /* default true */
	bool add_generation_prompt;  /* default true */
};

struct glm_segment { char *text; size_t len; bool special; };
struct glm_rendered { struct glm_segment *seg; size_t n, cap; };

/* The format's fixed strings, loaded from a template data file. */
struct glm_chat_format;

/* Detect the format from the model's tokenizer.chat_template text and load
 * its data file from templates_dir (NULL: $GLMCHAT_TEMPLATES, else the
 * installed pkgdatadir). Unknown template: error "unsupported chat template".
 * Returns 0; -2 for an unknown (or no) template; -1 when the data file is
 * missing or broken (the message starts with its path). */
int  glm_chat_format_load(const char *chat_template, const char *templates_dir,
                          struct glm_chat_format **out, char *err, size_t errlen);
void glm_chat_format_free(struct glm_chat_format *f);

void glm_render_opts_default(struct glm_render_opts *o);
int  glm_chat_render(const struct glm_chat_format *f, const struct glm_conversation *c,
                     const struct glm_render_opts *o, struct glm_rendered *out, char *err, size_t errlen);
void glm_rendered_free(struct glm_rendered *r);
/* Concatenated text of all segments (malloc'd, NUL-terminated). */
char *glm_rendered_text(const struct glm_rendered *r, size_t *len);
/* Tokenize segment by segment: special segments with parse_special. */
int  glm_rendered_tokenize(const struct glm_rendered *r, const struct glm_tokenizer *t,
                           int32_t **ids, size_t *n);

/* Conversation building (all strings copied). */
void glm_conversation_init(struct glm_conversation *c);
void glm_conversation_free(struct glm_conversation *c);
struct glm_message *glm_conversation_add(struct glm_conversation *c, enum glm_role role,
                                         const char *content, const char *reasoning);
/* Append a tool call to an assistant message; arguments_json is a JSON
 * object (NULL: no arguments). Returns 0, or -1 on allocation failure. */
int  glm_message_add_tool_call(struct glm_message *m, const char *name, const char *arguments_json);
/* Role names as the JSON uses them ("system", "user", "assistant", "tool"). */
const char *glm_role_name(enum glm_role role);

/* The format's name ("GLM-4.7") and its fixed strings by data-file key
 * (e.g. "think_end" -> "</think>"); NULL for an unknown key. */
const char *glm_chat_format_name(const struct glm_chat_format *f);
const char *glm_chat_format_string(const struct glm_chat_format *f, const char *key);
/* True when the rendered prompt ends by opening the reasoning (<think>),
 * so generation starts in the reasoning channel. */
bool glm_rendered_ends_in_reasoning(const struct glm_rendered *r, const struct glm_chat_format *f);
/* Parse the OpenAI-style JSON of `glmchat render` ({"messages":[...], "tools":[...], ...}):
 * c is initialised here (left empty on error), o gets the defaults and then
 * the options given. Strict: wrong types and unknown roles are errors; a
 * null or missing content renders as empty (jinja would print "None"). */
int  glm_conversation_from_json(const char *json, size_t len, struct glm_conversation *c,
                                struct glm_render_opts *o, char *err, size_t errlen);

#endif
