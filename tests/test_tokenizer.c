/* The tokenizer against the reference library's output (fixtures/tokenizer/
 * encode.jsonl, Hugging Face tokenizers) with the vocabulary of a tiny
 * model's GGUF: both special modes, exact decoding, the streaming decoder,
 * special-token lookups, hostile inputs and hostile vocabularies. */
#include "config.h"
#include "tests/testutil.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <time.h>

/* CPU time: the limits must hold on a loaded machine too; tokenizing never
 * sleeps, so a slow path shows here all the same. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -100000);
	}
	return v < 0 ? -1 : v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The JSON string value of "key" in one row, with its exact bytes: cJSON
 * would cut a string at an escaped NUL, and one row is "\u0000nul". */
static char *json_string(const char *row, const char *key, size_t *len)
{
	char pat[64];
	const char *p;
	char *out, *o;

	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	p = strstr(row, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	out = o = malloc(strlen(p) + 1);
	while (*p && *p != '"') {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case 'b': *o++ = '\b'; p++; break;
		case 'f': *o++ = '\f'; p++; break;
		case 'u': {
			int cp = hex4(p + 1);
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' && p[1] == 'u') {
				int lo = hex4(p + 2);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp < 0)
				bail_out("bad \\u escape in the fixture");
			o += put_utf8(o, (unsigned)cp);
			break;
		}
		default: *o++ = *p++; break;     /* \" \\ \/ */
		}
	}
	*len = (size_t)(o - out);
	return out;
}

static bool ids_equal(const int32_t *a, size_t na, const cJSON *want)
{
	size_t i = 0;
	const cJSON *e;

	if (!cJSON_IsArray(want) || (size_t)cJSON_GetArraySize(want) != na)
		return false;
	cJSON_ArrayForEach(e, want)
		if (!cJSON_IsNumber(e) || a[i++] != (int32_t)e->valuedouble)
			return false;
	return true;
}

static void show_ids(const char *what, const int32_t *a, size_t n)
{
	char line[1024];
	size_t at = 0;
	for (size_t i = 0; i < n && at + 16 < sizeof line; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, " %d", a[i]);
	diag("  %s:%s", what, line);
}

/* Valid UTF-8 throughout. */
static bool utf8_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int k = glm_utf8_check(s + i, n - i);
		if (k <= 0)
			return false;
		i += (size_t)k;
	}
	return true;
}

/* Decode with the streaming decoder one id at a time; *split counts the
 * pushes that held bytes back (a character cut between tokens). */
static char *stream_decode(const struct glm_tokenizer *t, const int32_t *ids, size_t n, size_t *len,
                           int *split, bool *all_valid)
{
	struct glm_utf8_stream s = {0};
	size_t bs = glm_utf8_stream_bufsize(t), cap = 3 * (n * glm_tokenizer_max_piece(t) + 8) + bs, at = 0;
	char *out = malloc(cap), *buf = malloc(bs);

	*split = 0;
	*all_valid = true;
	for (size_t i = 0; i < n; i++) {
		size_t k = glm_utf8_stream_push(&s, t, ids[i], buf, bs);
		if (s.n_pending)
			(*split)++;
		if (!utf8_ok(buf, k))
			*all_valid = false;
		memcpy(out + at, buf, k);
		at += k;
	}
	at += glm_utf8_stream_flush(&s, out + at, cap - at);
	free(buf);
	*len = at;
	return out;
}

static int32_t *tokenize(const struct glm_tokenizer *t, const char *s, size_t len, bool special, size_t *n)
{
	int32_t *ids = NULL;
	size_t cap = 0;
	*n = 0;
	if (glm_tokenize(t, s, len, special, &ids, n, &cap))
		bail_out("glm_tokenize failed (out of memory)");
	return ids;
}

static void test_fixture_rows(const struct glm_tokenizer *t)
{
	size_t flen;
	char *file = slurp(fixture_path("tokenizer/encode.jsonl"), &flen);
	int rows = 0, split_rows = 0;

	if (!file)
		bail_out("cannot read %s", fixture_path("tokenizer/encode.jsonl"));
	for (char *line = file, *nl; *line; line = nl + 1) {
		size_t tlen, dlen, n_plain, n_special, blen;
		char *text, *decoded, *bytes;
		int32_t *plain, *special;
		cJSON *row;
		int split = 0;
		bool valid;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		if (!*line)
			continue;
		row = cJSON_Parse(line);
		text = json_string(line, "text", &tlen);
		decoded = json_string(line, "decoded", &dlen);
		if (!row || !text || !decoded)
			bail_out("row %d of encode.jsonl does not parse", rows);
		rows++;

		plain = tokenize(t, text, tlen, false, &n_plain);
		if (!ok(ids_equal(plain, n_plain, cJSON_GetObjectItem(row, "ids_plain")),
		        "row %d ids_plain (%zu ids)", rows, n_plain))
			show_ids("got", plain, n_plain);
		special = tokenize(t, text, tlen, true, &n_special);
		if (!ok(ids_equal(special, n_special, cJSON_GetObjectItem(row, "ids")),
		        "row %d ids with specials (%zu ids)", rows, n_special))
			show_ids("got", special, n_special);

		ok(glm_detokenize(t, plain, n_plain, &bytes, &blen) == 0 && blen == tlen && !memcmp(bytes, text, tlen),
		   "row %d ids_plain decode to the text", rows);
		free(bytes);
		bytes = stream_decode(t, special, n_special, &blen, &split, &valid);
		ok(blen == dlen && !memcmp(bytes, decoded, dlen) && valid,
		   "row %d streaming decode of ids is 'decoded', complete UTF-8 each step", rows);
		split_rows += split > 0;
		free(bytes);
		free(plain);
		free(special);
		free(text);
		free(decoded);
		cJSON_Delete(row);
	}
	is_int(rows, 118, "all encode.jsonl rows read");
	ok(split_rows > 0, "some rows cut a character between tokens (%d rows): the stream held it back", split_rows);
	free(file);
}

/* The special tokens, found by text, against the reference tokenizer.json's
 * added_tokens (a second, independent source for the ids). */
static void test_specials(const struct glm_tokenizer *t, const struct glm_tokenizer *t2)
{
	size_t len;
	char *json = slurp(shared_path("tokenizer/tokenizer.json"), &len);
	cJSON *root, *added, *e;
	int n = 0, good = 0;

	if (!json) {
		skip(4, "no %s", shared_path("tokenizer/tokenizer.json"));
		return;
	}
	root = cJSON_Parse(json);
	added = cJSON_GetObjectItem(root, "added_tokens");
	cJSON_ArrayForEach(e, added) {
		const char *content = cJSON_GetStringValue(cJSON_GetObjectItem(e, "content"));
		int id = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id"));
		n++;
		if (glm_token_lookup(t, content) == id && glm_token_is_control(t, id))
			good++;
		else
			diag("  %s: lookup %d, reference %d", content, glm_token_lookup(t, content), id);
	}
	ok(n == 36 && good == n, "all %d special tokens found by text at the reference ids, as control tokens", n);

	{
		static const char *const eog_text[] = {"<|endoftext|>", "<|user|>", "<|observation|>"};
		const int32_t *eog;
		size_t n_eog = glm_tokenizer_eog(t, &eog), n_eog2;
		const int32_t *eog2;
		bool all = n_eog == 3, all2;
		cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "vocab");
		for (size_t i = 0; i < 3; i++) {
			int want = -1;
			cJSON_ArrayForEach(e, added)
				if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "content")), eog_text[i]))
					want = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id"));
			all = all && want >= 0 && glm_token_is_eog(t, want);
		}
		ok(all && !glm_token_is_eog(t, glm_token_lookup(t, "<|assistant|>")),
		   "end of generation: exactly <|endoftext|>, <|user|>, <|observation|> (file without eot/eom keys)");
		n_eog2 = glm_tokenizer_eog(t2, &eog2);
		all2 = n_eog2 == n_eog;
		for (size_t i = 0; i < n_eog && all2; i++)
			all2 = glm_token_is_eog(t2, eog[i]);
		ok(all2, "the same set from a file with eos/eot/eom keys (%zu ids)", n_eog2);
		/* Ordinary tokens: lookup agrees with the reference vocabulary. */
		int checked = 0, agree = 0;
		cJSON_ArrayForEach(e, vocab) {
			checked++;
			agree += glm_token_lookup(t, e->string) == (int)e->valuedouble;
		}
		ok(checked == 2048 && agree == checked, "the %d ordinary tokens sit at the reference ids", checked);
	}
	cJSON_Delete(root);
	free(json);
}

static void test_utf8_and_stream(const struct glm_tokenizer *t)
{
	struct glm_utf8_stream s = {0};
	char out[4096];
	size_t k, total;

	is_int(glm_utf8_check("\xe6\x97\xa5", 3), 3, "utf8: a 3-byte character");
	is_int(glm_utf8_check("\xf0\x9f\x9a\x80", 4), 4, "utf8: a 4-byte character");
	is_int(glm_utf8_check("\xe6\x97", 2), 0, "utf8: a cut character is incomplete, not invalid");
	is_int(glm_utf8_check("\xc0\x80", 2), -1, "utf8: overlong NUL is invalid");
	is_int(glm_utf8_check("\xed\xa0\x80", 3), -1, "utf8: a surrogate is invalid");
	is_int(glm_utf8_check("\xf4\x90\x80\x80", 4), -1, "utf8: past U+10FFFF is invalid");
	is_int(glm_utf8_check("\xe6\x97" "a", 3), -2, "utf8: a cut character followed by ASCII: 2 bytes to replace");

	/* 日 = e6 97 a5, one byte token each. */
	{
		size_t n;
		int32_t *b = tokenize(t, "\xe6", 1, false, &n), b0 = b[0];
		int32_t b1, b2;
		free(b);
		b = tokenize(t, "\x97", 1, false, &n); b1 = b[0]; free(b);
		b = tokenize(t, "\xa5", 1, false, &n); b2 = b[0]; free(b);
		k = glm_utf8_stream_push(&s, t, b0, out, sizeof out);
		total = k;
		k = glm_utf8_stream_push(&s, t, b1, out, sizeof out);
		total += k;
		ok(total == 0 && s.n_pending == 2, "stream: two bytes of a character give nothing yet");
		k = glm_utf8_stream_push(&s, t, b2, out, sizeof out);
		ok(k == 3 && !memcmp(out, "\xe6\x97\xa5", 3) && s.n_pending == 0, "stream: the third completes it");
		glm_utf8_stream_push(&s, t, b0, out, sizeof out);
		k = glm_utf8_stream_flush(&s, out, sizeof out);
		ok(k == 3 && !memcmp(out, "\xef\xbf\xbd", 3) && s.n_pending == 0, "stream: flush turns a cut character into U+FFFD");
		glm_utf8_stream_push(&s, t, b0, out, sizeof out);
		k = glm_utf8_stream_push(&s, t, glm_token_lookup(t, "a"), out, sizeof out);
		ok(k == 4 && !memcmp(out, "\xef\xbf\xbd" "a", 4), "stream: a character that cannot complete becomes U+FFFD, then the rest");
		k = glm_utf8_stream_push(&s, t, b2, out, sizeof out);
		ok(k == 3 && !memcmp(out, "\xef\xbf\xbd", 3), "stream: a lone continuation byte is U+FFFD");
		k = glm_utf8_stream_push(&s, t, glm_token_lookup(t, "<|user|>"), out, sizeof out);
		ok(k == 8 && !strcmp(out, "<|user|>"), "stream: a control token gives its text");
	}
}

/* One hostile input: decoding gives the bytes back, and it is quick. */
static void hostile(const struct glm_tokenizer *t, const char *what, const char *s, size_t len, bool special,
                    double limit)
{
	double t0 = now(), dt;
	size_t n, blen;
	int32_t *ids = tokenize(t, s, len, special, &n);
	char *bytes;

	dt = now() - t0;
	ok(glm_detokenize(t, ids, n, &bytes, &blen) == 0 && blen == len && !memcmp(bytes, s, len),
	   "%s: %zu bytes -> %zu ids decode back exactly", what, len, n);
	if (!ok(dt < limit, "%s: tokenized in %.3f s of CPU (limit %.0f s)", what, dt, limit))
		diag("  too slow");
	free(bytes);
	free(ids);
}

static void test_hostile(const struct glm_tokenizer *t)
{
	const size_t mb = 1 << 20;
	char *buf = malloc(mb);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t n;
	int32_t *ids;
	bool none;

	memset(buf, ' ', mb);
	hostile(t, "1 MB of spaces", buf, mb, false, 5);
	memset(buf, 'a', mb);
	hostile(t, "1 MB of 'a'", buf, mb, false, 5);
	for (size_t i = 0; i < mb; i++)
		buf[i] = "hello"[i % 5];
	hostile(t, "1 MB of 'hello' without spaces (one pre-token, many merges)", buf, mb, false, 5);
	memset(buf, '\n', mb);
	hostile(t, "1 MB of newlines", buf, mb, false, 5);
	memset(buf, 0, mb);
	hostile(t, "1 MB of NUL", buf, mb, false, 5);
	for (size_t i = 0; i < mb; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (char)(x >> 24);
	}
	hostile(t, "1 MB of random bytes", buf, mb, false, 5);
	hostile(t, "1 MB of random bytes, specials on", buf, mb, true, 5);
	for (size_t i = 0; i < mb; i++)
		buf[i] = " \n\t\xe6\x97\xa5"[i % 6];
	hostile(t, "1 MB of spaces, newlines, tabs and CJK", buf, mb, false, 5);
	for (size_t i = 0; i < mb; i++)
		buf[i] = "  \xe6\x97 \xff\xfe<|user"[i % 13];
	hostile(t, "1 MB of spaces and cut characters", buf, mb, false, 5);
	memset(buf, '<', mb);
	hostile(t, "1 MB of '<', specials on", buf, mb, true, 5);
	for (size_t i = 0; i + 8 <= mb; i += 8)
		memcpy(buf + i, "<|user|>", 8);
	hostile(t, "1 MB of <|user|>, specials off", buf, mb, false, 5);

	ids = tokenize(t, buf, mb, false, &n);
	none = true;
	for (size_t i = 0; i < n; i++)
		none = none && !glm_token_is_control(t, ids[i]);
	ok(none, "typed control-token text never becomes a control token");
	free(ids);
	ids = tokenize(t, buf, mb, true, &n);
	ok(n == mb / 8 && ids[0] == glm_token_lookup(t, "<|user|>"), "with specials on it is %zu control tokens", n);
	free(ids);
	free(buf);

	/* One whitespace match longer than PCRE2's default match limit (ten
	 * million steps) allows. */
	buf = malloc(11 * mb);
	memset(buf, '\t', 11 * mb);
	hostile(t, "11 MB of tabs (one regex match past PCRE2's default limit)", buf, 11 * mb, false, 10);
	free(buf);

	ids = tokenize(t, "a\xff" "b\x80\xc0\xaf" "c\xed\xa0\x80", 11, false, &n);
	{
		char *b;
		size_t bl;
		ok(glm_detokenize(t, ids, n, &b, &bl) == 0 && bl == 11 && !memcmp(b, "a\xff" "b\x80\xc0\xaf" "c\xed\xa0\x80", 11),
		   "invalid UTF-8 is tokenized as bytes and decodes back");
		free(b);
	}
	free(ids);
	ids = NULL;
	n = 0;
	{
		size_t cap = 0;
		ok(glm_tokenize(t, "", 0, true, &ids, &n, &cap) == 0 && n == 0, "empty text: no ids");
		int32_t bad[] = {0, glm_tokenizer_n_vocab(t)};
		char *b = (char *)1;
		size_t bl;
		ok(glm_detokenize(t, bad, 2, &b, &bl) == -2 && !b, "an id out of range is refused");
		ok(glm_token_bytes(t, -1, NULL, 0) == 0 && glm_token_lookup(t, "no such token") == -1,
		   "out-of-range bytes and unknown lookups are empty");
	}
	free(ids);
}

/* ---- hostile vocabularies: a tiny GGUF writer ---- */
struct gb { char *p; size_t n, cap; };

static void gb_put(struct gb *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = 2 * (b->n + n) + 256;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}
static void gb_u32(struct gb *b, uint32_t v) { gb_put(b, &v, 4); }
static void gb_u64(struct gb *b, uint64_t v) { gb_put(b, &v, 8); }
static void gb_str(struct gb *b, const char *s) { gb_u64(b, strlen(s)); gb_put(b, s, strlen(s)); }

/* A vocabulary of the 256 byte tokens plus "ab" (merge "a b"), and a
 * control token; `breakage` spoils one thing. */
static char *tiny_vocab(const char *breakage, size_t *len)
{
	struct gb b = {0};
	char tok[4];
	int n_kv = 4;

	gb_put(&b, "GGUF", 4);
	gb_u32(&b, 3);
	gb_u64(&b, 0);
	gb_u64(&b, (uint64_t)n_kv);
	gb_str(&b, "tokenizer.ggml.model");
	gb_u32(&b, 8);
	gb_str(&b, !strcmp(breakage, "model") ? "llama" : "gpt2");
	gb_str(&b, "tokenizer.ggml.tokens");
	gb_u32(&b, 9);
	gb_u32(&b, 8);
	gb_u64(&b, 258 - !strcmp(breakage, "byte"));
	for (int i = 0; i < 256; i++) {
		/* GPT-2's printable spelling of byte i */
		unsigned cp = (i >= 0x21 && i <= 0x7e) || (i >= 0xa1 && i <= 0xac) || (i >= 0xae) ? (unsigned)i
		            : i <= 0x20 ? 0x100u + i : i <= 0xa0 ? 0x121u + (i - 0x7f) : 0x143u;
		if (i == 0x41 && !strcmp(breakage, "byte"))
			continue;
		tok[put_utf8(tok, cp)] = '\0';
		gb_str(&b, tok);
	}
	gb_str(&b, "ab");
	gb_str(&b, "<|user|>");
	gb_str(&b, "tokenizer.ggml.token_type");
	gb_u32(&b, 9);
	gb_u32(&b, 5);
	gb_u64(&b, 258 - !strcmp(breakage, "byte") - !strcmp(breakage, "types"));
	for (int i = 0; i < 258 - !strcmp(breakage, "byte") - !strcmp(breakage, "types"); i++)
		gb_u32(&b, i == 257 - !strcmp(breakage, "byte") ? 3 : !strcmp(breakage, "type") && i == 7 ? 99 : 1);
	gb_str(&b, "tokenizer.ggml.merges");
	gb_u32(&b, 9);
	gb_u32(&b, 8);
	gb_u64(&b, 1);
	gb_str(&b, !strcmp(breakage, "merge") ? "a zz" : !strcmp(breakage, "nospace") ? "ab" : "a b");
	*len = b.n;
	return b.p;
}

static void test_bad_vocab(void)
{
	static const struct { const char *breakage, *want; } cases[] = {
		{"model", "tokenizer.ggml.model"},
		{"byte", "no token for byte 0x41"},
		{"types", "tokenizer.ggml.token_type"},
		{"type", "tokenizer.ggml.token_type[7]"},
		{"merge", "tokenizer.ggml.merges[0]"},
		{"nospace", "tokenizer.ggml.merges[0]"},
	};
	char err[256];
	size_t len, n, cap;
	char *buf = tiny_vocab("", &len);
	struct gguf_file *f = NULL;
	struct glm_tokenizer *t = NULL;
	int32_t *ids = NULL;

	if (gguf_parse(buf, len, "tiny", &f, err, sizeof err)) {
		skip(2 + (int)(sizeof cases / sizeof cases[0]), "the GGUF reader refuses the test vocabulary: %s", err);
		free(buf);
		return;
	}
	ok(glm_tokenizer_load(f, &t, err, sizeof err) == 0, "a minimal vocabulary loads");
	n = cap = 0;
	ok(t && glm_tokenize(t, "xab<|user|>", 11, true, &ids, &n, &cap) == 0 && n == 3 &&
	   ids[1] == 256 && ids[2] == 257, "and merges 'a b' and splits its control token");
	free(ids);
	glm_tokenizer_free(t);
	gguf_close(f);
	free(buf);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf = tiny_vocab(cases[i].breakage, &len);
		f = NULL;
		t = (struct glm_tokenizer *)1;
		err[0] = '\0';
		if (gguf_parse(buf, len, "tiny", &f, err, sizeof err) == 0) {
			int rc = glm_tokenizer_load(f, &t, err, sizeof err);
			if (!ok(rc == -1 && !t && strstr(err, cases[i].want) && !strncmp(err, "tiny: ", 6),
			        "bad vocabulary (%s) refused: %s", cases[i].breakage, err))
				diag("  wanted a message with '%s'", cases[i].want);
			gguf_close(f);
		} else {
			ok(0, "the GGUF reader refused the '%s' vocabulary: %s", cases[i].breakage, err);
		}
		free(buf);
	}
}

static struct glm_tokenizer *load(const char *rel, struct gguf_file **fp)
{
	char err[512];
	struct glm_tokenizer *t;

	if (gguf_open(fixture_path(rel), fp, err, sizeof err))
		bail_out("%s", err);
	if (glm_tokenizer_load(*fp, &t, err, sizeof err))
		bail_out("%s", err);
	return t;
}

int main(void)
{
	struct gguf_file *f, *f2;
	struct glm_tokenizer *t = load("models/tiny-bf16.gguf", &f);
	struct glm_tokenizer *t2 = load("models/tiny-f32.gguf", &f2);

	gguf_close(f);          /* the tokenizer keeps its own copy */
	is_int(glm_tokenizer_n_vocab(t), 2112, "the tiny models' vocabulary: 2112 tokens");
	test_fixture_rows(t);
	test_specials(t, t2);
	test_utf8_and_stream(t);
	test_hostile(t);
	test_bad_vocab();
	glm_tokenizer_free(t);
	glm_tokenizer_free(t2);
	gguf_close(f2);
	return done_testing();
}
