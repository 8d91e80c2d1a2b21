/* Text to ids: split out special-token text (only where the caller asks),
 * cut the rest into pre-tokens with the glm4 regex, BPE-merge each one. */
#include "config.h"
#include "engine/tokenizer_impl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

/* llama.cpp's LLAMA_VOCAB_PRE_TYPE_CHATGLM4 (the spec, section 4.2): the
 * GPT-4 split with the case-insensitive contractions spelt out, digits in
 * groups of up to three. */
static const char glm4_pattern[] =
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
	"|\\p{N}{1,3}"
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
	"|\\s*[\\r\\n]+"
	"|\\s+(?!\\S)"
	"|\\s+";

int tok_regex_compile(struct glm_tokenizer *t, char *err, size_t errlen, const char *path)
{
	int code;
	PCRE2_SIZE at;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)glm4_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
	                               &code, &at, NULL);

	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s: pre-tokenizer regex: %s at %zu", path ? path : "(gguf)", (char *)msg,
		         (size_t)at);
		return -1;
	}
	/* The JIT is several times faster; without it the interpreter still works. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	t->re = re;
	/* The default match limit (10 million steps) stops \s*[\r\n]+ inside a
	 * run of ten million spaces. This pattern has no nested repeats, so a
	 * match costs at most a few passes over the text it looks at: no limit
	 * is needed to prevent runaway backtracking. */
	t->match_ctx = pcre2_match_context_create(NULL);
	if (!t->match_ctx) {
		snprintf(err, errlen, "%s: out of memory", path ? path : "(gguf)");
		return -1;
	}
	pcre2_set_match_limit(t->match_ctx, UINT32_MAX);
	return 0;
}

void tok_regex_free(struct glm_tokenizer *t)
{
	pcre2_match_context_free(t->match_ctx);
	pcre2_code_free(t->re);
	t->match_ctx = NULL;
	t->re = NULL;
}

/* Length of the character at s (1 for a byte that is not UTF-8). */
static size_t char_len(const char *s, size_t n)
{
	int k = glm_utf8_check(s, n);
	return k > 0 ? (size_t)k : 1;
}

/* Valid UTF-8: pre-tokens from the regex, each merged on its own. The text
 * was checked by the caller, so PCRE2 need not check it again on every
 * call (which would make the loop quadratic). */
static int encode_valid(const struct glm_tokenizer *t, struct tok_work *w, const char *s, size_t n)
{
	PCRE2_SIZE pos = 0;

	while (pos < n) {
		int rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, w->match, t->match_ctx);
		PCRE2_SIZE start, end;

		if (rc >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->match);
			start = ov[0];
			end = ov[1];
		} else {
			/* No match or a resource limit (out of memory, say): neither
			 * happens with this pattern and every character matching some
			 * branch, but the text must still come out whole, in linear
			 * time: the rest becomes one pre-token. */
			start = pos;
			end = n;
		}
		if (end <= start)                    /* cannot happen: no branch is empty */
			end = start + char_len(s + start, n - start);
		if (start > pos && tok_bpe(t, w, s + pos, start - pos))
			return -1;
		if (tok_bpe(t, w, s + start, end - start))
			return -1;
		pos = end;
	}
	return 0;
}

/* Ordinary text: runs of valid UTF-8 go through the pre-tokenizer; bytes
 * that are not UTF-8 (the reference library never sees such text) become a
 * pre-token of their own, so they are kept, never rejected. */
static int encode_text(const struct glm_tokenizer *t, struct tok_work *w, const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		size_t j = i, m;
		int k = 0;   /* set before every use; gcc cannot see it */

		while (j < n && (u[j] < 0x80 || (k = glm_utf8_check(s + j, n - j)) > 0))
			j += u[j] < 0x80 ? 1 : (size_t)k;
		if (j > i && encode_valid(t, w, s + i, j - i))
			return -1;
		for (m = j; m < n && u[m] >= 0x80 && (k = glm_utf8_check(s + m, n - m)) <= 0;)
			m += k < 0 ? (size_t)-k : n - m;     /* 0: a character cut by the end */
		if (m > j && tok_bpe(t, w, s + j, m - j))
			return -1;
		i = m;
	}
	return 0;
}

/* First index in [lo, hi) whose byte k is >= c (> c when after): the texts
 * there all have more than k bytes and are sorted on byte k. */
static size_t bound(const struct tok_special_set *set, size_t lo, size_t hi, size_t k, uint8_t c, bool after)
{
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		uint8_t b = (uint8_t)set->v[m].text[k];
		if (b < c || (after && b == c))
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* The special text starting at p, longest first, or -1. The set is sorted,
 * so the texts that share p's first k bytes form a range, shorter first. */
static int32_t match_special(const struct tok_special_set *set, const uint8_t *p, size_t n, size_t *mlen)
{
	size_t lo = 0, hi = set->n;
	int32_t best = -1;

	for (size_t k = 0; lo < hi; k++) {
		if (set->v[lo].len == k) {
			best = set->v[lo].id;        /* the lowest id of equal texts */
			*mlen = k;
			while (lo < hi && set->v[lo].len == k)
				lo++;
		}
		if (k == n || lo == hi)
			break;
		lo = bound(set, lo, hi, k, p[k], false);
		hi = bound(set, lo, hi, k, p[k], true);
	}
	return best;
}

static int encode(const struct glm_tokenizer *t, struct tok_work *w, const char *s, size_t n,
                  const struct tok_special_set *set)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t seg = 0;

	if (set->n) {
		for (size_t pos = 0; pos < n;) {
			size_t len = 0;
			int32_t id;
			if (!set->first[u[pos]] || (id = match_special(set, u + pos, n - pos, &len)) < 0) {
				pos++;
				continue;
			}
			if (encode_text(t, w, s + seg, pos - seg) || tok_emit(w, id))
				return -1;
			pos += len;
			seg = pos;
		}
	}
	return encode_text(t, w, s + seg, n - seg);
}

int glm_tokenize(const struct glm_tokenizer *t, const char *text, size_t len, bool parse_special,
                 int32_t **ids, size_t *n, size_t *cap)
{
	struct tok_work w = {.ids = ids, .n = n, .cap = cap};
	size_t n0 = *n;
	int rc = -1;

	if (!text && len)
		return -1;
	w.match = pcre2_match_data_create_from_pattern(t->re, NULL);
	if (w.match)
		rc = encode(t, &w, text ? text : "", len, parse_special ? &t->special : &t->user_defined);
	pcre2_match_data_free(w.match);
	tok_work_free(&w);
	if (rc)
		*n = n0;
	return rc;
}
