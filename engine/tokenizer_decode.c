/* From ids back to bytes: the byte-level map, exact decoding, and the
 * streaming decoder that only ever hands out complete UTF-8. */
#include "config.h"
#include "engine/tokenizer_impl.h"

#include <stdlib.h>
#include <string.h>

/* GPT-2's map: printable Latin-1 bytes stand for themselves; the other 68
 * (controls, space, DEL, NBSP, soft hyphen) are moved, in byte order, to
 * U+0100..U+0143 so every byte has a visible character. */
static bool byte_is_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

uint32_t tok_byte_to_cp(uint8_t b)
{
	if (byte_is_printable(b))
		return b;
	if (b <= 0x20)
		return 0x100 + b;                    /* 0x00..0x20 -> U+0100..U+0120 */
	if (b >= 0x7f && b <= 0xa0)
		return 0x121 + (b - 0x7f);           /* 0x7f..0xa0 -> U+0121..U+0142 */
	return 0x143;                            /* 0xad */
}

int tok_cp_to_byte(uint32_t cp)
{
	if (cp < 0x100)
		return byte_is_printable(cp) ? (int)cp : -1;
	if (cp <= 0x120)
		return (int)(cp - 0x100);
	if (cp <= 0x142)
		return (int)(cp - 0x121 + 0x7f);
	return cp == 0x143 ? 0xad : -1;
}

/* Unicode's table of well-formed sequences (3-7): the allowed range of the
 * second byte depends on the first; later bytes are 80..BF. */
int glm_utf8_check(const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;
	uint8_t b0 = u[0], lo = 0x80, hi = 0xbf;
	int need;

	if (b0 < 0x80)
		return 1;
	if (b0 < 0xc2 || b0 > 0xf4)
		return -1;
	need = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
	if (b0 == 0xe0)
		lo = 0xa0;
	else if (b0 == 0xed)
		hi = 0x9f;
	else if (b0 == 0xf0)
		lo = 0x90;
	else if (b0 == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return 0;
		if (u[i] < lo || u[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

const char *glm_token_piece(const struct glm_tokenizer *t, int32_t id, size_t *len)
{
	if (id < 0 || id >= t->n_vocab) {
		*len = 0;
		return NULL;
	}
	*len = t->piece[id].len;
	return t->piece_pool + t->piece[id].off;
}

size_t glm_token_bytes(const struct glm_tokenizer *t, int32_t id, char *buf, size_t bufsize)
{
	size_t len;
	const char *p = glm_token_piece(t, id, &len);

	if (p && bufsize)
		memcpy(buf, p, len < bufsize ? len : bufsize);
	return len;
}

size_t glm_tokenizer_max_piece(const struct glm_tokenizer *t)
{
	return t->max_piece;
}

int glm_detokenize(const struct glm_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len)
{
	size_t total = 0, at = 0;
	char *buf;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < 0 || ids[i] >= t->n_vocab)
			return -2;
		total += t->piece[ids[i]].len;       /* each < 4 GiB: no wrap before memory runs out */
		if (total < t->piece[ids[i]].len)
			return -1;
	}
	buf = malloc(total + 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + at, t->piece_pool + t->piece[ids[i]].off, t->piece[ids[i]].len);
		at += t->piece[ids[i]].len;
	}
	buf[at] = '\0';
	*out = buf;
	*len = at;
	return 0;
}

size_t glm_utf8_stream_bufsize(const struct glm_tokenizer *t)
{
	/* Worst case: every pending and new byte is invalid and becomes U+FFFD. */
	return 3 * (t->max_piece + sizeof ((struct glm_utf8_stream *)0)->pending) + 1;
}

static const char replacement[3] = {(char)0xef, (char)0xbf, (char)0xbd};

/* Appends one decoded character (or U+FFFD for k < 0) if it fits. */
static bool put(char *out, size_t outsize, size_t *o, const char *c, int k)
{
	size_t m = k > 0 ? (size_t)k : sizeof replacement;

	if (*o + m >= outsize)
		return false;
	memcpy(out + *o, k > 0 ? c : replacement, m);
	*o += m;
	return true;
}

/* Emit what is complete in the pending bytes followed by b[0..nb); keep a
 * trailing partial character in s->pending. The pending bytes are always a
 * valid beginning, so the character they start ends inside b (or is still
 * incomplete) and whatever it is consumes all of them. */
static size_t stream_emit(struct glm_utf8_stream *s, const char *b, size_t nb, char *out, size_t outsize)
{
	size_t o = 0, i = 0;

	if (!outsize)
		return 0;
	if (s->n_pending) {
		char w[sizeof s->pending + 4];
		size_t np = s->n_pending, nw = np;
		int k;

		memcpy(w, s->pending, np);
		while (nw < np + 4 && i < nb)
			w[nw++] = b[i++];
		k = glm_utf8_check(w, nw);
		if (k == 0) {                        /* b ended first: still waiting */
			memcpy(s->pending, w, nw);
			s->n_pending = nw;
			out[0] = '\0';
			return 0;
		}
		s->n_pending = 0;
		if (!put(out, outsize, &o, w, k))
			goto full;
		i = (size_t)(k > 0 ? k : -k) - np;   /* bytes of b the character used */
	}
	while (i < nb) {
		int k = glm_utf8_check(b + i, nb - i);
		if (k == 0) {
			memcpy(s->pending, b + i, nb - i);   /* < 4 bytes */
			s->n_pending = nb - i;
			break;
		}
		if (!put(out, outsize, &o, b + i, k))
			goto full;
		i += (size_t)(k > 0 ? k : -k);
	}
	out[o] = '\0';
	return o;
full:
	s->n_pending = 0;
	out[o] = '\0';
	return o;
}

size_t glm_utf8_stream_push(struct glm_utf8_stream *s, const struct glm_tokenizer *t, int32_t id,
                            char *out, size_t outsize)
{
	size_t len;
	const char *p = glm_token_piece(t, id, &len);

	return stream_emit(s, p ? p : "", len, out, outsize);
}

size_t glm_utf8_stream_flush(struct glm_utf8_stream *s, char *out, size_t outsize)
{
	size_t o = 0;

	if (!outsize)
		return 0;
	if (s->n_pending && outsize > sizeof replacement) {
		memcpy(out, replacement, sizeof replacement);
		o = sizeof replacement;
	}
	s->n_pending = 0;
	out[o] = '\0';
	return o;
}
