/* Inside the tokenizer: the loaded vocabulary shared by tokenizer.c (loading,
 * lookups), tokenizer_encode.c (special split, pre-tokenizer),
 * tokenizer_bpe.c (merging) and tokenizer_decode.c (pieces, UTF-8 stream).
 * Not for other files. */
#ifndef GLM_TOKENIZER_IMPL_H
#define GLM_TOKENIZER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/tokenizer.h"

/* A token's text and piece live in pools: [off, off + len). */
struct tok_span { uint32_t off, len; };

/* One BPE merge rule, keyed by the pair of ids it joins. */
struct tok_merge {
	uint64_t pair;          /* left id << 32 | right id; TOK_EMPTY = free slot */
	int32_t rank;           /* position in tokenizer.ggml.merges: lower merges first */
	int32_t result;         /* id of the joined token */
};
#define TOK_EMPTY UINT64_MAX

/* A special text: split out of the input before the pre-tokenizer. */
struct tok_special { int32_t id; uint32_t len; const char *text; };

/* Special texts sorted bytewise (a prefix before its extensions), so the
 * longest match at a position is found by narrowing a range byte by byte. */
struct tok_special_set {
	struct tok_special *v;
	size_t n;
	bool first[256];                /* some text starts with this byte */
};

struct glm_tokenizer {
	int32_t n_vocab;
	uint8_t *type;                  /* enum glm_token_type per id */
	char *text_pool;                /* file text of every token */
	struct tok_span *text;
	char *piece_pool;               /* decoded bytes of every token */
	struct tok_span *piece;
	size_t max_piece;

	int32_t *text_index;            /* open addressing over text, -1 = free */
	size_t text_mask;

	struct tok_merge *merges;       /* open addressing, TOK_EMPTY = free */
	size_t merge_mask;

	int32_t byte_token[256];        /* id of each single-byte token */

	struct tok_special_set special;      /* CONTROL and USER_DEFINED: parse_special */
	struct tok_special_set user_defined; /* USER_DEFINED only: split in both modes */

	int32_t eog[8];
	size_t n_eog;

	void *re;                       /* pcre2_code_8 of the glm4 pre-tokenizer */
	void *match_ctx;                /* pcre2_match_context_8: its limits (shared, read-only) */
};

/* Hashes shared by the loader and the encoder. */
static inline uint64_t tok_hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a, then a final mix */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static inline uint64_t tok_hash_pair(uint64_t pair)
{
	pair ^= pair >> 31;
	pair *= 0x7fb5d329728ea185ull;
	pair ^= pair >> 27;
	pair *= 0x81dadef4bc2dd44dull;
	return pair ^ (pair >> 33);
}

static inline const struct tok_merge *tok_find_merge(const struct glm_tokenizer *t, int32_t a, int32_t b)
{
	uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
	for (size_t i = tok_hash_pair(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
		const struct tok_merge *m = &t->merges[i];
		if (m->pair == key)
			return m;
		if (m->pair == TOK_EMPTY)
			return NULL;
	}
}

/* Id of the token whose file text is s[0..n), or -1. */
int32_t tok_lookup_n(const struct glm_tokenizer *t, const char *s, size_t n);

/* Scratch of one glm_tokenize call (the tokenizer itself stays read-only):
 * the symbols of the piece being merged and the heap of candidate merges. */
struct tok_work {
	int32_t *sym, *prev, *next;     /* per byte of the piece; sym -1 = merged away */
	int32_t *rank, *result;         /* the rule for the pair starting there (-1: none) */
	size_t sym_cap;
	uint64_t *heap;                 /* rank << 32 | left position, smallest first */
	size_t heap_n, heap_cap;
	int32_t **ids;                  /* the caller's growable output */
	size_t *n, *cap;
	void *match;                    /* pcre2_match_data_8 */
};

/* Append one id to the output. 0, or -1 when out of memory. */
int tok_emit(struct tok_work *w, int32_t id);
/* BPE-merge one pre-token s[0..len) and emit its ids (tokenizer_bpe.c). */
int tok_bpe(const struct glm_tokenizer *t, struct tok_work *w, const char *s, size_t len);
void tok_work_free(struct tok_work *w);

/* The pre-tokenizer: compiled once per tokenizer (tokenizer_encode.c). */
int  tok_regex_compile(struct glm_tokenizer *t, char *err, size_t errlen, const char *path);
void tok_regex_free(struct glm_tokenizer *t);

/* GPT-2's byte <-> printable code point map (tokenizer_decode.c). */
uint32_t tok_byte_to_cp(uint8_t b);
int      tok_cp_to_byte(uint32_t cp);    /* -1: not a mapped code point */

#endif
