/* JSON the way Python sees it. The chat template was written for Python:
 * its `tojson` is json.dumps(ensure_ascii=False), so tool definitions and
 * tool-call arguments must come out with ", " and ": " separators, keys in
 * their original order (a repeated key keeps its first place and its last
 * value, like a dict), non-ASCII kept, and numbers as Python prints them:
 * 1.0 stays "1.0", 1e-5 becomes "1e-05", 10 stays "10". cJSON keeps only a
 * double per number, so json_py_parse() also keeps each number's literal
 * (in the node's valuestring, which cJSON_Delete frees) to tell ints from
 * floats and to keep big integers exact. */
#ifndef GLM_JSON_PY_H
#define GLM_JSON_PY_H

#include <stddef.h>
#include <stdbool.h>
#include <cJSON.h>

/* Deepest nesting json_py_parse() accepts (Python's own limit is ~1000). */
#define JSON_PY_MAX_DEPTH 500

/* A growable byte buffer; `failed` sticks after an allocation failure. */
struct json_py_buf { char *data; size_t len, cap; bool failed; };
void json_py_buf_put(struct json_py_buf *b, const char *s, size_t n);
void json_py_buf_puts(struct json_py_buf *b, const char *s);
/* NUL-terminates and hands the data over (NULL after a failure). */
char *json_py_buf_take(struct json_py_buf *b, size_t *len);
void json_py_buf_free(struct json_py_buf *b);

/* Strict RFC 8259 parse of text[0..len) (valid UTF-8, no raw control
 * characters in strings, no trailing data), with Python's dict semantics
 * for repeated keys. "\u0000" inside strings is refused (C strings).
 * Returns the tree (free with cJSON_Delete) or NULL with "what at byte N"
 * in err. */
cJSON *json_py_parse(const char *text, size_t len, char *err, size_t errlen);

enum json_py_style {
	JSON_PY_DUMPS,    /* json.dumps(v, ensure_ascii=False) */
	JSON_PY_SOURCE,   /* same, but numbers as their source literals: valid
	                     JSON that parses back to the same Python value */
};
/* Append v serialised. */
void json_py_dump(const cJSON *v, enum json_py_style style, struct json_py_buf *out);
/* Python's str(v) for a parsed value: strings raw, everything else repr()
 * (dicts as {'k': 'v'}, True/False/None). Non-ASCII counts as printable
 * except the C0/C1 controls, line/paragraph separators and a few format
 * characters, which Python escapes. */
void json_py_str(const cJSON *v, struct json_py_buf *out);
/* Malloc'd json.dumps(v) text, or NULL on allocation failure. */
char *json_py_dumps(const cJSON *v, size_t *len);

/* Python's repr() of a float as json.dumps writes it (NaN, Infinity,
 * -Infinity for the non-finite). buf needs 32 bytes. */
void json_py_format_float(double d, char *buf, size_t size);

#endif
