/* Loading the vocabulary from the GGUF metadata and the lookups on it.
 * The file is untrusted: every array's type and length, every token type,
 * every merge and every special id is checked before use. */
#include "config.h"
#include "engine/tokenizer_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A vocabulary past this is not a tokenizer, it is an attack on our memory. */
#define TOK_MAX_VOCAB  (16u << 20)
#define TOK_MAX_MERGES (16u << 20)

struct loader {
	const struct gguf_file *f;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(ld->err, ld->errlen, "%s: ", ld->f->path ? ld->f->path : "(gguf)");

	if (k < 0 || (size_t)k >= ld->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ld->err + k, ld->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;
	while (c < n)
		c <<= 1;
	return c;
}

static const struct gguf_kv *find_array(struct loader *ld, const char *key, enum gguf_value_type et,
                                        bool required, int *rc)
{
	const struct gguf_kv *kv = gguf_find(ld->f, key);

	*rc = 0;
	if (!kv) {
		if (required)
			*rc = fail(ld, "%s: missing", key);
		return NULL;
	}
	if (kv->type != GGUF_TYPE_ARRAY) {
		*rc = fail(ld, "%s: not an array", key);
		return NULL;
	}
	/* Any integer type will do for the token types; strings must be strings. */
	if (et == GGUF_TYPE_STRING ? kv->v.arr.type != GGUF_TYPE_STRING || !kv->v.arr.strs
	                           : kv->v.arr.type == GGUF_TYPE_STRING || kv->v.arr.type == GGUF_TYPE_FLOAT32 ||
	                             kv->v.arr.type == GGUF_TYPE_FLOAT64 || kv->v.arr.type == GGUF_TYPE_BOOL) {
		*rc = fail(ld, "%s: wrong element type %s", key, gguf_type_name(kv->v.arr.type));
		return NULL;
	}
	return kv;
}

int32_t tok_lookup_n(const struct glm_tokenizer *t, const char *s, size_t n)
{
	for (size_t i = tok_hash_bytes(s, n) & t->text_mask;; i = (i + 1) & t->text_mask) {
		int32_t id = t->text_index[i];
		if (id < 0)
			return -1;
		if (t->text[id].len == n && !memcmp(t->text_pool + t->text[id].off, s, n))
			return id;
	}
}

/* Append n bytes to a pool that grows by doubling. */
static int pool_add(char **pool, size_t *len, size_t *cap, const void *s, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *p;
		while (c < *len + n)
			c *= 2;
		p = realloc(*pool, c);
		if (!p)
			return -1;
		*pool = p;
		*cap = c;
	}
	if (n)
		memcpy(*pool + *len, s, n);
	*len += n;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The bytes a token stands for. Ordinary tokens spell bytes with GPT-2's
 * printable code points; a code point outside that map (or a byte that is
 * not UTF-8) stands for itself, so a malformed vocabulary still decodes to
 * something rather than failing. */
static int decode_piece(const struct glm_tokenizer *t, int32_t id, char **pool, size_t *len, size_t *cap)
{
	const char *s = t->text_pool + t->text[id].off;
	size_t n = t->text[id].len;
	uint8_t type = t->type[id];

	if (type == GLM_TOKEN_CONTROL || type == GLM_TOKEN_USER_DEFINED || type == GLM_TOKEN_UNKNOWN)
		return pool_add(pool, len, cap, s, n);
	if (type == GLM_TOKEN_BYTE && n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' &&
	    hex_digit(s[3]) >= 0 && hex_digit(s[4]) >= 0) {
		uint8_t b = (uint8_t)(hex_digit(s[3]) << 4 | hex_digit(s[4]));
		return pool_add(pool, len, cap, &b, 1);
	}
	for (size_t i = 0; i < n;) {
		int k = glm_utf8_check(s + i, n - i);
		int b = -1;
		if (k > 0) {
			const uint8_t *u = (const uint8_t *)s + i;
			uint32_t cp = k == 1 ? u[0] : k == 2 ? (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f)
			                            : 0x110000;   /* the map stops at U+0143 */
			b = tok_cp_to_byte(cp);
		} else {
			k = k < 0 ? -k : (int)(n - i);
		}
		if (b >= 0) {
			uint8_t c = (uint8_t)b;
			if (pool_add(pool, len, cap, &c, 1))
				return -1;
		} else if (pool_add(pool, len, cap, s + i, (size_t)k)) {
			return -1;
		}
		i += (size_t)k;
	}
	return 0;
}

static int load_tokens(struct loader *ld, struct glm_tokenizer *t)
{
	int rc;
	const struct gguf_kv *tok = find_array(ld, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, true, &rc);
	const struct gguf_kv *typ;
	size_t tlen = 0, tcap = 0, plen = 0, pcap = 0;
	uint64_t n;

	if (!tok)
		return -1;
	n = tok->v.arr.n;
	if (n < 256 || n > TOK_MAX_VOCAB)
		return fail(ld, "tokenizer.ggml.tokens: %llu tokens (need 256 to %u)", (unsigned long long)n, TOK_MAX_VOCAB);
	typ = find_array(ld, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, false, &rc);
	if (rc)
		return -1;
	if (typ && typ->v.arr.n != n)
		return fail(ld, "tokenizer.ggml.token_type: %llu entries for %llu tokens",
		            (unsigned long long)typ->v.arr.n, (unsigned long long)n);

	t->n_vocab = (int32_t)n;
	t->type = malloc(n);
	t->text = malloc(n * sizeof *t->text);
	t->piece = malloc(n * sizeof *t->piece);
	t->text_mask = pow2_at_least(2 * n) - 1;
	t->text_index = malloc((t->text_mask + 1) * sizeof *t->text_index);
	if (!t->type || !t->text || !t->piece || !t->text_index)
		return fail(ld, "out of memory for %llu tokens", (unsigned long long)n);
	memset(t->text_index, 0xff, (t->text_mask + 1) * sizeof *t->text_index);
	/* Start both pools non-empty-capacity so no offset is ever taken from NULL. */
	tcap = pcap = 8 * (size_t)n;
	t->text_pool = malloc(tcap);
	t->piece_pool = malloc(pcap);
	if (!t->text_pool || !t->piece_pool)
		return fail(ld, "out of memory for %llu tokens", (unsigned long long)n);

	for (uint64_t i = 0; i < n; i++) {
		const struct gguf_str *s = &tok->v.arr.strs[i];
		int64_t ty = typ ? gguf_arr_int(typ, i) : GLM_TOKEN_NORMAL;
		if (ty < GLM_TOKEN_UNDEFINED || ty > GLM_TOKEN_BYTE)
			return fail(ld, "tokenizer.ggml.token_type[%llu]: %lld is not a token type",
			            (unsigned long long)i, (long long)ty);
		t->type[i] = (uint8_t)ty;
		if (s->len > UINT32_MAX - tlen)
			return fail(ld, "tokenizer.ggml.tokens: more than 4 GiB of token text");
		t->text[i].off = (uint32_t)tlen;
		t->text[i].len = (uint32_t)s->len;
		if (pool_add(&t->text_pool, &tlen, &tcap, s->ptr, s->len))
			return fail(ld, "out of memory for the token text");
	}
	/* Index by text; the first of duplicate texts wins. */
	for (int32_t id = 0; id < t->n_vocab; id++) {
		const char *s = t->text_pool + t->text[id].off;
		size_t len = t->text[id].len;
		if (tok_lookup_n(t, s, len) >= 0)
			continue;
		for (size_t h = tok_hash_bytes(s, len) & t->text_mask;; h = (h + 1) & t->text_mask)
			if (t->text_index[h] < 0) {
				t->text_index[h] = id;
				break;
			}
	}
	for (int32_t id = 0; id < t->n_vocab; id++) {
		size_t before = plen;
		if (decode_piece(t, id, &t->piece_pool, &plen, &pcap))
			return fail(ld, "out of memory for the token pieces");
		if (plen > UINT32_MAX)
			return fail(ld, "tokenizer.ggml.tokens: more than 4 GiB of token bytes");
		t->piece[id].off = (uint32_t)before;
		t->piece[id].len = (uint32_t)(plen - before);
		if (plen - before > t->max_piece)
			t->max_piece = plen - before;
	}
	return 0;
}

static int load_bytes(struct loader *ld, struct glm_tokenizer *t)
{
	for (int b = 0; b < 256; b++) {
		uint32_t cp = tok_byte_to_cp((uint8_t)b);
		char u[2];
		size_t n = 1;
		if (cp < 0x80) {
			u[0] = (char)cp;
		} else {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		}
		t->byte_token[b] = tok_lookup_n(t, u, n);
		if (t->byte_token[b] < 0)
			return fail(ld, "tokenizer.ggml.tokens: no token for byte 0x%02x", b);
	}
	return 0;
}

static int load_merges(struct loader *ld, struct glm_tokenizer *t)
{
	int rc;
	const struct gguf_kv *m = find_array(ld, "tokenizer.ggml.merges", GGUF_TYPE_STRING, true, &rc);
	char *joined = NULL;
	size_t jcap = 0;
	uint64_t n;

	if (!m)
		return -1;
	n = m->v.arr.n;
	if (n > TOK_MAX_MERGES)
		return fail(ld, "tokenizer.ggml.merges: %llu merges (at most %u)", (unsigned long long)n, TOK_MAX_MERGES);
	t->merge_mask = pow2_at_least(2 * n) - 1;
	t->merges = malloc((t->merge_mask + 1) * sizeof *t->merges);
	if (!t->merges)
		return fail(ld, "out of memory for %llu merges", (unsigned long long)n);
	for (size_t i = 0; i <= t->merge_mask; i++)
		t->merges[i].pair = TOK_EMPTY;

	for (uint64_t r = 0; r < n; r++) {
		const struct gguf_str *s = &m->v.arr.strs[r];
		const char *sp = s->len > 1 ? memchr(s->ptr + 1, ' ', s->len - 1) : NULL;
		size_t la, lb;
		int32_t a, b, ab;
		uint64_t key;

		if (!sp) {
			rc = fail(ld, "tokenizer.ggml.merges[%llu]: no space between two tokens", (unsigned long long)r);
			goto out;
		}
		la = (size_t)(sp - s->ptr);
		lb = s->len - la - 1;
		if (la + lb > jcap) {
			char *p = realloc(joined, la + lb);
			if (!p) {
				rc = fail(ld, "out of memory");
				goto out;
			}
			joined = p;
			jcap = la + lb;
		}
		memcpy(joined, s->ptr, la);
		memcpy(joined + la, sp + 1, lb);
		a = tok_lookup_n(t, s->ptr, la);
		b = tok_lookup_n(t, sp + 1, lb);
		ab = tok_lookup_n(t, joined, la + lb);
		if (a < 0 || b < 0) {
			rc = fail(ld, "tokenizer.ggml.merges[%llu]: '%.*s' names a token not in the vocabulary",
			          (unsigned long long)r, (int)(s->len > 64 ? 64 : s->len), s->ptr);
			goto out;
		}
		/* A rule whose result is no token can never fire; llama.cpp loads
		 * such files (the benchmark model has them), so skip it. */
		if (ab < 0)
			continue;
		/* The first (lowest-ranked) rule for a pair wins. */
		key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
		for (size_t h = tok_hash_pair(key) & t->merge_mask;; h = (h + 1) & t->merge_mask) {
			struct tok_merge *e = &t->merges[h];
			if (e->pair == key)
				break;
			if (e->pair == TOK_EMPTY) {
				e->pair = key;
				e->rank = (int32_t)r;
				e->result = ab;
				break;
			}
		}
	}
	rc = 0;
out:
	free(joined);
	return rc;
}

static int cmp_special(const void *x, const void *y)
{
	const struct tok_special *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->text, b->text, n);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int build_special_set(struct glm_tokenizer *t, struct tok_special_set *set, bool with_control)
{
	size_t n = 0;

	for (int32_t id = 0; id < t->n_vocab; id++) {
		uint8_t ty = t->type[id];
		if (t->text[id].len && (ty == GLM_TOKEN_USER_DEFINED || (with_control && ty == GLM_TOKEN_CONTROL)))
			n++;
	}
	set->n = 0;
	if (!n)
		return 0;
	set->v = malloc(n * sizeof *set->v);
	if (!set->v)
		return -1;
	for (int32_t id = 0; id < t->n_vocab; id++) {
		uint8_t ty = t->type[id];
		if (t->text[id].len && (ty == GLM_TOKEN_USER_DEFINED || (with_control && ty == GLM_TOKEN_CONTROL))) {
			struct tok_special *s = &set->v[set->n++];
			s->id = id;
			s->len = t->text[id].len;
			s->text = t->text_pool + t->text[id].off;
			set->first[(uint8_t)s->text[0]] = true;
		}
	}
	qsort(set->v, set->n, sizeof *set->v, cmp_special);
	return 0;
}

static int add_eog(struct glm_tokenizer *t, int32_t id)
{
	if (id < 0)
		return 0;
	for (size_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return 0;
	if (t->n_eog < sizeof t->eog / sizeof t->eog[0])
		t->eog[t->n_eog++] = id;
	return 0;
}

static int load_eog(struct loader *ld, struct glm_tokenizer *t)
{
	static const char *const texts[] = {"<|endoftext|>", "<|user|>", "<|observation|>"};
	static const char *const keys[] = {
		"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		add_eog(t, glm_token_lookup(t, texts[i]));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		uint32_t id;
		int rc = gguf_get_u32(ld->f, keys[i], &id);
		if (rc == -1)
			continue;
		if (rc || id >= (uint32_t)t->n_vocab)
			return fail(ld, "%s: not a token id below %d", keys[i], t->n_vocab);
		add_eog(t, (int32_t)id);
	}
	return 0;
}

static int check_model(struct loader *ld)
{
	char *model = gguf_get_str(ld->f, "tokenizer.ggml.model");
	char *pre = gguf_get_str(ld->f, "tokenizer.ggml.pre");
	int rc = 0;

	if (!model)
		rc = fail(ld, "tokenizer.ggml.model: missing");
	else if (strcmp(model, "gpt2"))
		rc = fail(ld, "tokenizer.ggml.model: '%.40s' is not supported (only byte-level BPE, 'gpt2')", model);
	else if (pre && strcmp(pre, "glm4") && strcmp(pre, "chatglm-bpe"))
		rc = fail(ld, "tokenizer.ggml.pre: '%.40s' is not supported (only 'glm4')", pre);
	free(model);
	free(pre);
	return rc;
}

int glm_tokenizer_load(const struct gguf_file *f, struct glm_tokenizer **out, char *err, size_t errlen)
{
	struct loader ld = {f, err, errlen};
	struct glm_tokenizer *t;

	*out = NULL;
	if (check_model(&ld))
		return -1;
	t = calloc(1, sizeof *t);
	if (!t)
		return fail(&ld, "out of memory");
	if (load_tokens(&ld, t) || load_bytes(&ld, t) || load_merges(&ld, t) || load_eog(&ld, t))
		goto fail;
	if (build_special_set(t, &t->special, true) || build_special_set(t, &t->user_defined, false)) {
		fail(&ld, "out of memory");
		goto fail;
	}
	if (tok_regex_compile(t, err, errlen, f->path))
		goto fail;
	*out = t;
	return 0;
fail:
	glm_tokenizer_free(t);
	return -1;
}

void glm_tokenizer_free(struct glm_tokenizer *t)
{
	if (!t)
		return;
	tok_regex_free(t);
	free(t->special.v);
	free(t->user_defined.v);
	free(t->merges);
	free(t->text_index);
	free(t->piece_pool);
	free(t->piece);
	free(t->text_pool);
	free(t->text);
	free(t->type);
	free(t);
}

int32_t glm_tokenizer_n_vocab(const struct glm_tokenizer *t)
{
	return t->n_vocab;
}

int32_t glm_token_lookup(const struct glm_tokenizer *t, const char *s)
{
	return s ? tok_lookup_n(t, s, strlen(s)) : -1;
}

enum glm_token_type glm_token_type(const struct glm_tokenizer *t, int32_t id)
{
	return id >= 0 && id < t->n_vocab ? (enum glm_token_type)t->type[id] : GLM_TOKEN_UNDEFINED;
}

bool glm_token_is_control(const struct glm_tokenizer *t, int32_t id)
{
	return glm_token_type(t, id) == GLM_TOKEN_CONTROL;
}

const char *glm_token_text(const struct glm_tokenizer *t, int32_t id, size_t *len)
{
	if (id < 0 || id >= t->n_vocab) {
		*len = 0;
		return NULL;
	}
	*len = t->text[id].len;
	return t->text_pool + t->text[id].off;
}

size_t glm_tokenizer_eog(const struct glm_tokenizer *t, const int32_t **ids)
{
	*ids = t->eog;
	return t->n_eog;
}

bool glm_token_is_eog(const struct glm_tokenizer *t, int32_t id)
{
	for (size_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return true;
	return false;
}
