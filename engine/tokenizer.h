/* Byte-level BPE with the glm4 pre-tokenizer, from the GGUF vocabulary.
 * User text is always ordinary text; control tokens are split out only when
 * the caller asks (the chat renderer does, for the template's own text).
 *
 * A loaded tokenizer is read-only: any number of threads may tokenize and
 * decode with it at once. It copies what it needs, so the gguf_file may be
 * closed after glm_tokenizer_load. */
#ifndef GLM_TOKENIZER_H
#define GLM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/gguf.h"

struct glm_tokenizer;

/* GGUF token types (tokenizer.ggml.token_type). */
enum glm_token_type {
	GLM_TOKEN_UNDEFINED = 0, GLM_TOKEN_NORMAL = 1, GLM_TOKEN_UNKNOWN = 2, GLM_TOKEN_CONTROL = 3,
	GLM_TOKEN_USER_DEFINED = 4, GLM_TOKEN_UNUSED = 5, GLM_TOKEN_BYTE = 6,
};

/* Reads tokenizer.ggml.{model,pre,tokens,token_type,merges} and the eos/eot/
 * eom ids. Errors: "FILE: tokenizer.ggml.KEY: what is wrong". */
int  glm_tokenizer_load(const struct gguf_file *f, struct glm_tokenizer **out, char *err, size_t errlen);
void glm_tokenizer_free(struct glm_tokenizer *t);

int32_t glm_tokenizer_n_vocab(const struct glm_tokenizer *t);
/* Id of the token whose text (as stored in the file) is exactly s, or -1. */
int32_t glm_token_lookup(const struct glm_tokenizer *t, const char *s);
bool    glm_token_is_control(const struct glm_tokenizer *t, int32_t id);
/* The token's type; GLM_TOKEN_UNDEFINED for an id out of range. */
enum glm_token_type glm_token_type(const struct glm_tokenizer *t, int32_t id);
/* The token's text as stored in the file (byte-level mapped, e.g. "Ġthe"),
 * not NUL-terminated; NULL for an id out of range. */
const char *glm_token_text(const struct glm_tokenizer *t, int32_t id, size_t *len);

/* End of generation: <|endoftext|>, <|user|>, <|observation|> (found by
 * their text) and the file's eos/eot/eom ids, without duplicates. Returns
 * how many; *ids points into the tokenizer. */
size_t glm_tokenizer_eog(const struct glm_tokenizer *t, const int32_t **ids);
bool   glm_token_is_eog(const struct glm_tokenizer *t, int32_t id);

/* Append the tokens of text[0..len) to *ids (a growable array: *ids may be
 * NULL, *n and *cap track it). Any bytes are accepted: NULs and invalid
 * UTF-8 are tokenized as bytes. parse_special: control-token text becomes
 * control tokens (leftmost-longest match); otherwise it is ordinary text.
 * USER_DEFINED tokens are not control tokens and are split out in both
 * modes, as the reference libraries do. Returns 0, or -1 on allocation
 * failure (the array then holds what it held before). */
int glm_tokenize(const struct glm_tokenizer *t, const char *text, size_t len, bool parse_special,
                 int32_t **ids, size_t *n, size_t *cap);

/* The raw bytes a token stands for (byte-level mapping undone; control and
 * user-defined tokens give their text). Not NUL-terminated; points into the
 * tokenizer. NULL (and *len 0) for an id out of range. */
const char *glm_token_piece(const struct glm_tokenizer *t, int32_t id, size_t *len);
/* The same, copied: writes min(len, bufsize) bytes and returns the piece's
 * full length (0 for an id out of range), like snprintf without the NUL. */
size_t glm_token_bytes(const struct glm_tokenizer *t, int32_t id, char *buf, size_t bufsize);
/* The longest piece, in bytes. */
size_t glm_tokenizer_max_piece(const struct glm_tokenizer *t);
/* Decode ids to their exact bytes: *out is malloc'd (NUL-terminated for
 * convenience; the bytes may contain NULs), *len its length. Returns 0, -1
 * on allocation failure, -2 when an id is out of range (*out is then NULL). */
int glm_detokenize(const struct glm_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len);

/* UTF-8 (strict: no overlongs, surrogates or values past U+10FFFF) at
 * p[0..n): > 0 the length of the complete valid character there; 0 when
 * p[0..n) is the valid beginning of a character that needs more bytes;
 * < 0 minus the length of an invalid sequence (its maximal valid prefix, at
 * least 1 byte), which a decoder replaces by one U+FFFD. n must be >= 1. */
int glm_utf8_check(const char *p, size_t n);

/* Streaming decoder: feed ids, receive only complete UTF-8 sequences. A
 * token can end in the middle of a character; the stream keeps the partial
 * bytes until the next token completes them. Start from a zeroed struct. */
struct glm_utf8_stream { char pending[8]; size_t n_pending; };
/* Output buffer size that is always enough for one push or flush. */
size_t glm_utf8_stream_bufsize(const struct glm_tokenizer *t);
/* Appends the complete UTF-8 produced by this token to out (NUL-terminated)
 * and returns the bytes written. Invalid bytes are emitted as U+FFFD once it
 * is clear they cannot complete. With outsize < glm_utf8_stream_bufsize()
 * the output is cut at a character boundary (what did not fit is lost). */
size_t glm_utf8_stream_push(struct glm_utf8_stream *s, const struct glm_tokenizer *t, int32_t id,
                            char *out, size_t outsize);
/* End of stream: a pending partial character becomes U+FFFD (out needs 4
 * bytes); the stream is reset. */
size_t glm_utf8_stream_flush(struct glm_utf8_stream *s, char *out, size_t outsize);

#endif
