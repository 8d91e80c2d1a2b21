/* Private to the chat-format files: the fixed strings of a format, as
 * loaded from its data file under templates/. The renderer reads them; the
 * loader (chat_format.c) owns them. */
#ifndef GLM_CHAT_FORMAT_H
#define GLM_CHAT_FORMAT_H

#include <stddef.h>

/* One entry per key of the data file (chat_format.c names them). */
enum glm_fmt_key {
	FMT_PREFIX,                 /* start of every prompt */
	FMT_TOOLS_BEGIN,            /* before the tool definitions */
	FMT_TOOL_SEPARATOR,         /* after each tool's JSON */
	FMT_TOOLS_END,              /* after the last one */
	FMT_SYSTEM, FMT_USER, FMT_ASSISTANT,
	FMT_THINK_BEGIN, FMT_THINK_END,
	FMT_TOOL_CALL_BEGIN, FMT_TOOL_CALL_END,
	FMT_ARG_KEY_BEGIN, FMT_ARG_KEY_END,
	FMT_ARG_VALUE_BEGIN, FMT_ARG_VALUE_END,
	FMT_OBSERVATION,            /* once per run of tool messages */
	FMT_TOOL_RESPONSE_BEGIN, FMT_TOOL_RESPONSE_END,
	FMT_GENERATION_THINK,       /* add_generation_prompt, thinking on */
	FMT_GENERATION_NO_THINK,    /* add_generation_prompt, thinking off */
	FMT_N_KEYS
};

struct glm_chat_format {
	char *name;
	char *s[FMT_N_KEYS];
	/* Control-token texts: where the template's own strings contain one,
	 * it becomes a control token (longest first). */
	char **specials;
	size_t n_specials;
	/* The model's chat template is this format when every one of these
	 * occurs in it (whitespace ignored). */
	char **detect;
	size_t n_detect;
};

extern const char *const glm_fmt_key_names[FMT_N_KEYS];

#endif
