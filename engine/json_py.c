/* Python-compatible JSON on top of cJSON: a strict pre-scan that records
 * each number's literal, cJSON for the tree, dict semantics for repeated
 * keys, and serialisers that print like json.dumps and str(). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json_py.h"
#include "engine/tokenizer.h"          /* glm_utf8_check */

/* ---- growable buffer ---- */

/* Room for n more bytes and a terminating NUL. */
static bool reserve(struct json_py_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > SIZE_MAX / 4 - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return false;
		}
		b->data = p;
		b->cap = cap;
	}
	return true;
}

void json_py_buf_put(struct json_py_buf *b, const char *s, size_t n)
{
	if (n && reserve(b, n)) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	}
}

void json_py_buf_puts(struct json_py_buf *b, const char *s)
{
	json_py_buf_put(b, s, strlen(s));
}

char *json_py_buf_take(struct json_py_buf *b, size_t *len)
{
	char *p;

	if (!reserve(b, 0)) {
		json_py_buf_free(b);
		return NULL;
	}
	b->data[b->len] = '\0';
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void json_py_buf_free(struct json_py_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

/* ---- strict pre-scan ---- */

struct span { size_t start, end; };

struct scan {
	const unsigned char *s;
	size_t len, pos;
	struct span *nums;
	size_t n_nums, cap_nums;
	const char *what;            /* first error, NULL when fine */
	size_t where;
};

static int scan_fail(struct scan *sc, const char *what, size_t where)
{
	sc->what = what;
	sc->where = where;
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int scan_string(struct scan *sc)
{
	size_t start = sc->pos++;

	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			return 0;
		}
		if (c < 0x20)
			return scan_fail(sc, "control character in string", sc->pos);
		if (c == '\\') {
			if (sc->pos + 1 >= sc->len)
				break;
			c = sc->s[sc->pos + 1];
			if (c == 'u') {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int h = sc->pos + 2 + i < sc->len ? hexval(sc->s[sc->pos + 2 + i]) : -1;
					if (h < 0)
						return scan_fail(sc, "bad \\u escape", sc->pos);
					v = v << 4 | h;
				}
				if (v == 0)
					return scan_fail(sc, "\\u0000 in a string is not supported", sc->pos);
				sc->pos += 6;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				sc->pos += 2;
			} else {
				return scan_fail(sc, "bad escape in string", sc->pos);
			}
			continue;
		}
		int n = glm_utf8_check((const char *)sc->s + sc->pos, sc->len - sc->pos);   /* <= 0: invalid */
		if (n <= 0)
			return scan_fail(sc, "invalid UTF-8", sc->pos);
		sc->pos += (size_t)n;
	}
	return scan_fail(sc, "unterminated string", start);
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *sc)
{
	const unsigned char *s = sc->s;
	size_t p = sc->pos, start = p;

	if (s[p] == '-')
		p++;
	if (p < sc->len && s[p] == '0') {
		p++;
	} else if (p < sc->len && is_digit(s[p])) {
		while (p < sc->len && is_digit(s[p]))
			p++;
	} else {
		return scan_fail(sc, "bad number", start);
	}
	if (p < sc->len && s[p] == '.') {
		if (++p >= sc->len || !is_digit(s[p]))
			return scan_fail(sc, "bad number", start);
		while (p < sc->len && is_digit(s[p]))
			p++;
	}
	if (p < sc->len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < sc->len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= sc->len || !is_digit(s[p]))
			return scan_fail(sc, "bad number", start);
		while (p < sc->len && is_digit(s[p]))
			p++;
	}
	if (p < sc->len && (is_digit(s[p]) || s[p] == '.' || s[p] == 'e' || s[p] == 'E' ||
	                    s[p] == '+' || s[p] == '-'))
		return scan_fail(sc, "bad number", start);
	if (sc->n_nums == sc->cap_nums) {
		size_t cap = sc->cap_nums ? sc->cap_nums * 2 : 64;
		struct span *n = realloc(sc->nums, cap * sizeof *n);
		if (!n)
			return scan_fail(sc, "out of memory", start);
		sc->nums = n;
		sc->cap_nums = cap;
	}
	sc->nums[sc->n_nums++] = (struct span){start, p};
	sc->pos = p;
	return 0;
}

/* Checks what cJSON lets through (raw control characters, invalid UTF-8,
 * sloppy numbers, depth) and records the number literals in document
 * order; the structure itself is left to cJSON. */
static int scan(struct scan *sc)
{
	int depth = 0;

	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];
		switch (c) {
		case ' ': case '\t': case '\n': case '\r': case ',': case ':':
			sc->pos++;
			break;
		case '[': case '{':
			if (++depth > JSON_PY_MAX_DEPTH)
				return scan_fail(sc, "nested too deeply", sc->pos);
			sc->pos++;
			break;
		case ']': case '}':
			depth--;
			sc->pos++;
			break;
		case '"':
			if (scan_string(sc))
				return -1;
			break;
		default:
			if (c == '-' || is_digit(c)) {
				if (scan_number(sc))
					return -1;
			} else if (c >= 'a' && c <= 'z') {
				sc->pos++;     /* true/false/null: cJSON checks the spelling */
			} else {
				return scan_fail(sc, "unexpected character", sc->pos);
			}
		}
	}
	return 0;
}

/* ---- tree fix-ups ---- */

/* Gives each number node its literal, in document order (cJSON keeps
 * children in that order). Returns the next unused literal index. */
static size_t attach_literals(cJSON *v, const struct scan *sc, size_t k, bool *oom)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v) && k < sc->n_nums) {
			size_t n = sc->nums[k].end - sc->nums[k].start;
			char *lit = cJSON_malloc(n + 1);
			if (!lit) {
				*oom = true;
				return k;
			}
			memcpy(lit, sc->s + sc->nums[k].start, n);
			lit[n] = '\0';
			v->valuestring = lit;
			k++;
		} else if (cJSON_IsNumber(v)) {
			return k + 1;          /* more numbers than literals: reported */
		}
		if (v->child)
			k = attach_literals(v->child, sc, k, oom);
	}
	return k;
}

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A repeated key keeps its first position and takes the last value, as a
 * Python dict does. Hash table per object, so huge objects stay linear. */
static int dedupe_object(cJSON *obj)
{
	size_t n = 0, cap = 16;
	cJSON **tab;

	for (cJSON *c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	while (cap < 2 * n)
		cap *= 2;
	tab = calloc(cap, sizeof *tab);
	if (!tab)
		return -1;
	for (cJSON *c = obj->child, *next; c; c = next) {
		next = c->next;
		const char *key = c->string ? c->string : "";
		size_t i = hash_key(key) & (cap - 1);
		while (tab[i] && strcmp(tab[i]->string ? tab[i]->string : "", key))
			i = (i + 1) & (cap - 1);
		if (!tab[i]) {
			tab[i] = c;
			continue;
		}
		cJSON_DetachItemViaPointer(obj, c);
		cJSON_ReplaceItemViaPointer(obj, tab[i], c);   /* frees the old one */
		tab[i] = c;
	}
	free(tab);
	return 0;
}

static int dedupe(cJSON *v)
{
	for (; v; v = v->next) {
		if (cJSON_IsObject(v) && dedupe_object(v))
			return -1;
		if (v->child && dedupe(v->child))
			return -1;
	}
	return 0;
}

static size_t count_numbers(const cJSON *v)
{
	size_t n = 0;
	for (; v; v = v->next)
		n += (cJSON_IsNumber(v) ? 1 : 0) + (v->child ? count_numbers(v->child) : 0);
	return n;
}

cJSON *json_py_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct scan sc = { .s = (const unsigned char *)text, .len = len };
	const char *end = NULL;
	cJSON *root;
	bool oom = false;

	if (scan(&sc)) {
		snprintf(err, errlen, "%s at byte %zu", sc.what, sc.where);
		free(sc.nums);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root) {
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		snprintf(err, errlen, len ? "invalid JSON at byte %zu" : "empty input", at);
		free(sc.nums);
		return NULL;
	}
	for (size_t p = (size_t)(end - text); p < len; p++) {
		if (!strchr(" \t\r\n", text[p]) || !text[p]) {
			snprintf(err, errlen, "unexpected data after the JSON value at byte %zu", p);
			cJSON_Delete(root);
			free(sc.nums);
			return NULL;
		}
	}
	if (count_numbers(root) != sc.n_nums) {
		snprintf(err, errlen, "invalid JSON (numbers)");
		cJSON_Delete(root);
		free(sc.nums);
		return NULL;
	}
	attach_literals(root, &sc, 0, &oom);
	free(sc.nums);
	if (oom || dedupe(root)) {
		snprintf(err, errlen, "out of memory");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- numbers ---- */

void json_py_format_float(double d, char *buf, size_t size)
{
	char tmp[40], digits[20];
	int prec, exp, nd = 0, decpt;
	size_t o = 0;

	if (isnan(d)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		snprintf(buf, size, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	/* Shortest digit string that reads back as d: what repr() prints. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	for (const char *p = tmp; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp = atoi(strchr(tmp, 'e') + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	decpt = exp + 1;

	char out[48];
	if (d < 0)
		out[o++] = '-';
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -decpt; i++)
				out[o++] = '0';
			for (int i = 0; i < nd; i++)
				out[o++] = digits[i];
		} else {
			for (int i = 0; i < decpt; i++)
				out[o++] = i < nd ? digits[i] : '0';
			out[o++] = '.';
			if (decpt >= nd)
				out[o++] = '0';
			for (int i = decpt; i < nd; i++)
				out[o++] = digits[i];
		}
		out[o] = '\0';
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (int i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, sizeof out - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	snprintf(buf, size, "%s", out);
}

static bool literal_is_int(const char *lit)
{
	return !strpbrk(lit, ".eE");
}

/* python: true for json.dumps (Infinity), false for str() (inf). */
static void put_number(const cJSON *v, enum json_py_style style, bool json, struct json_py_buf *out)
{
	const char *lit = v->valuestring;
	char buf[48];

	if (lit && style == JSON_PY_SOURCE) {
		json_py_buf_puts(out, lit);
		return;
	}
	if (lit && literal_is_int(lit)) {
		/* Python int: exact, any size; "-0" is just 0. */
		json_py_buf_puts(out, strcmp(lit, "-0") ? lit : "0");
		return;
	}
	if (!lit && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 9007199254740992.0) {
		snprintf(buf, sizeof buf, "%.0f", v->valuedouble + 0.0);
		json_py_buf_puts(out, buf);
		return;
	}
	if (style == JSON_PY_SOURCE && !isfinite(v->valuedouble)) {
		json_py_buf_puts(out, isnan(v->valuedouble) ? "null" : v->valuedouble < 0 ? "-1e999" : "1e999");
		return;
	}
	json_py_format_float(v->valuedouble, buf, sizeof buf);
	if (!json && !isfinite(v->valuedouble))
		snprintf(buf, sizeof buf, "%s", isnan(v->valuedouble) ? "nan" : v->valuedouble < 0 ? "-inf" : "inf");
	json_py_buf_puts(out, buf);
}

/* ---- json.dumps ---- */

static void put_json_string(const char *s, struct json_py_buf *out)
{
	const char *run = s;

	json_py_buf_put(out, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		const char *e = NULL;
		switch (c) {
		case '"':  e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				e = esc;
			}
		}
		if (e) {
			json_py_buf_put(out, run, (size_t)(s - run));
			json_py_buf_puts(out, e);
			run = s + 1;
		}
	}
	json_py_buf_put(out, run, (size_t)(s - run));
	json_py_buf_put(out, "\"", 1);
}

void json_py_dump(const cJSON *v, enum json_py_style style, struct json_py_buf *out)
{
	if (cJSON_IsNull(v)) {
		json_py_buf_puts(out, "null");
	} else if (cJSON_IsTrue(v)) {
		json_py_buf_puts(out, "true");
	} else if (cJSON_IsFalse(v)) {
		json_py_buf_puts(out, "false");
	} else if (cJSON_IsNumber(v)) {
		put_number(v, style, true, out);
	} else if (cJSON_IsString(v)) {
		put_json_string(v->valuestring ? v->valuestring : "", out);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		json_py_buf_put(out, obj ? "{" : "[", 1);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child)
				json_py_buf_put(out, ", ", 2);
			if (obj) {
				put_json_string(c->string ? c->string : "", out);
				json_py_buf_put(out, ": ", 2);
			}
			json_py_dump(c, style, out);
		}
		json_py_buf_put(out, obj ? "}" : "]", 1);
	} else {
		json_py_buf_puts(out, "null");   /* cJSON_Raw / invalid: not produced by the parser */
	}
}

char *json_py_dumps(const cJSON *v, size_t *len)
{
	struct json_py_buf b = {0};
	json_py_dump(v, JSON_PY_DUMPS, &b);
	return json_py_buf_take(&b, len);
}

/* ---- str() / repr() ---- */

static uint32_t utf8_decode(const unsigned char *s, size_t *n)
{
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*n = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Python's str.isprintable() for what the parser lets through, without the
 * Unicode tables: controls, separators and the common format characters
 * are not printable; unassigned code points are taken as printable. */
static bool py_printable(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
		return false;
	if ((c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x180e ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x2064) || (c >= 0x2066 && c <= 0x206f) || c == 0x3000 ||
	    (c >= 0xe000 && c <= 0xf8ff) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	    c == 0xfffe || c == 0xffff || c == 0xe0001 || (c >= 0xe0020 && c <= 0xe007f) ||
	    c >= 0xf0000)
		return false;
	return true;
}

static void put_py_repr_string(const char *str, struct json_py_buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	char q = strchr(str, '\'') && !strchr(str, '"') ? '"' : '\'';

	json_py_buf_put(out, &q, 1);
	while (*s) {
		size_t n;
		uint32_t c = utf8_decode(s, &n);
		char esc[16];
		if (c == (uint32_t)q || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
		} else if (c == '\n' || c == '\r' || c == '\t') {
			snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		} else if (!py_printable(c)) {
			snprintf(esc, sizeof esc, c < 0x100 ? "\\x%02x" : c < 0x10000 ? "\\u%04x" : "\\U%08x", c);
		} else {
			json_py_buf_put(out, (const char *)s, n);
			s += n;
			continue;
		}
		json_py_buf_puts(out, esc);
		s += n;
	}
	json_py_buf_put(out, &q, 1);
}

static void put_py_repr(const cJSON *v, struct json_py_buf *out)
{
	if (cJSON_IsNull(v)) {
		json_py_buf_puts(out, "None");
	} else if (cJSON_IsTrue(v)) {
		json_py_buf_puts(out, "True");
	} else if (cJSON_IsFalse(v)) {
		json_py_buf_puts(out, "False");
	} else if (cJSON_IsNumber(v)) {
		put_number(v, JSON_PY_DUMPS, false, out);
	} else if (cJSON_IsString(v)) {
		put_py_repr_string(v->valuestring ? v->valuestring : "", out);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		json_py_buf_put(out, obj ? "{" : "[", 1);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child)
				json_py_buf_put(out, ", ", 2);
			if (obj) {
				put_py_repr_string(c->string ? c->string : "", out);
				json_py_buf_put(out, ": ", 2);
			}
			put_py_repr(c, out);
		}
		json_py_buf_put(out, obj ? "}" : "]", 1);
	}
}

void json_py_str(const cJSON *v, struct json_py_buf *out)
{
	if (cJSON_IsString(v))
		json_py_buf_puts(out, v->valuestring ? v->valuestring : "");
	else
		put_py_repr(v, out);
}
