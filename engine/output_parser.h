/* The model's output, read as it streams: which text is reasoning and which
 * is the answer, and the tool calls in it. GLM-4.7 starts inside its
 * reasoning when the prompt ended with <think>; the </think> token switches
 * to the answer; a tool call is
 *   <tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value>...</tool_call>
 * All tags are recognised by token id, never by matching text, so text that
 * merely spells a tag stays text. Argument values that read as JSON (numbers,
 * true, objects...) become those values; anything else stays a string. */
#ifndef GLM_OUTPUT_PARSER_H
#define GLM_OUTPUT_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/chat.h"
#include "engine/engine.h"

/* Token ids of the tags; -1 where the vocabulary has none. */
struct glm_output_tags {
	int32_t think_begin, think_end;
	int32_t tool_call_begin, tool_call_end;
	int32_t arg_key_begin, arg_key_end;
	int32_t arg_value_begin, arg_value_end;
};
/* The ids of the format's tag strings in the model's vocabulary. */
void glm_output_tags_lookup(const struct glm_chat_format *f, const struct glm_tokenizer *t,
                            struct glm_output_tags *tags);

enum glm_output_kind { GLM_OUTPUT_TEXT, GLM_OUTPUT_TOOL_CALL };

struct glm_output_event {
	enum glm_output_kind kind;
	enum glm_channel channel;            /* where the text or call appeared */
	const char *text;                    /* GLM_OUTPUT_TEXT */
	size_t len;
	const struct glm_tool_call *call;    /* GLM_OUTPUT_TOOL_CALL: name + JSON object */
};
typedef void (*glm_output_fn)(const struct glm_output_event *ev, void *user);

struct glm_output_parser;

/* starts_in_reasoning: the prompt ended with <think>. on_event may be NULL
 * (the parser also collects everything; see the getters). NULL on
 * allocation failure. */
struct glm_output_parser *glm_output_parser_new(const struct glm_output_tags *tags, bool starts_in_reasoning,
                                                glm_output_fn on_event, void *user);
void glm_output_parser_free(struct glm_output_parser *p);

/* One generated token and its decoded text (complete UTF-8; may be empty).
 * Returns 0, or -1 on allocation failure. */
int glm_output_parser_push(struct glm_output_parser *p, int32_t token, const char *text, size_t len);
/* End of output: a tool call left open is given back as plain text. */
int glm_output_parser_finish(struct glm_output_parser *p);

enum glm_channel glm_output_parser_channel(const struct glm_output_parser *p);
/* Everything so far (NUL-terminated, owned by the parser). */
const char *glm_output_parser_reasoning(const struct glm_output_parser *p);
const char *glm_output_parser_content(const struct glm_output_parser *p);
const struct glm_tool_call *glm_output_parser_calls(const struct glm_output_parser *p, size_t *n);

#endif
