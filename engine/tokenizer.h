/* Byte-level BPE with the glm4 pre-tokenizer, from the GGUF vocabulary.
 * User text is always ordinary text; control tokens are split out only when
 * the caller asks (the chat renderer does, for the template's own text). */
#ifndef GLM_TOKENIZER_H
#define GLM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/gguf.h"

struct glm_tokenizer;

int  glm_tokenizer_load(const struct gguf_file *f, struct glm_tokenizer **out, char *err, size_t errlen);
void glm_tokenizer_free(struct glm_tokenizer *t);

int32_t glm_tokenizer_n_vocab(const struct glm_tokenizer *t);
/* Id of the token whose text is exactly s, or -1. */
int32_t glm_token_lookup(const struct glm_tokenizer *t, const char *s);
bool    glm_token_is_control(const struct glm_tokenizer *t, int32_t id);

/* Append the tokens of text[0..len) to *ids (a growable array: *ids may be
 * NULL, *n and *cap track it). parse_special: control-token text becomes
 * control tokens. Returns 0, or -1 on allocation failure. */
int glm_tokenize(const struct glm_tokenizer *t, const char *text, size_t len, bool parse_special,
                 int32_t **ids, size_t *n, size_t *cap);

/* The raw bytes a token stands for (byte-level mapping undone). Returns the
 * number of bytes; control tokens give their text. */
size_t glm_token_bytes(const struct glm_tokenizer *t, int32_t id, char *buf, size_t bufsize);

/* Streaming decoder: feed ids, receive only complete UTF-8 sequences. */
struct glm_utf8_stream { char pending[8]; size_t n_pending; };
/* Appends the complete UTF-8 produced by this token to out (NUL-terminated,
 * outsize >= 64 recommended); returns bytes written. Invalid bytes are
 * emitted as U+FFFD once it is clear they cannot complete. */
size_t glm_utf8_stream_push(struct glm_utf8_stream *s, const struct glm_tokenizer *t, int32_t id,
                            char *out, size_t outsize);
size_t glm_utf8_stream_flush(struct glm_utf8_stream *s, char *out, size_t outsize);

#endif
