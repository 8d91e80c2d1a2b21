/* GGUF v2/v3 reader. Everything in the file is untrusted: all reads go
 * through a cursor that refuses to pass the end of the buffer, every count
 * is compared with the bytes left before anything is allocated from it, and
 * all size arithmetic is overflow-checked (the llama.cpp parser CVEs were
 * each a count × size or offset + size computed before that comparison).
 * Strings stay views into the buffer; only keys and tensor names are copied
 * so they can be NUL-terminated. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/gguf.h"

#define GGUF_MAGIC 0x46554747u   /* "GGUF" read little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32u

/* Smallest possible encodings, used to bound counts by the bytes left:
 * a KV is key length (8) + one key byte + type (4) + one value byte; a
 * tensor info is name length (8) + one name byte + n_dims (4) + one dim (8)
 * + type (4) + offset (8). */
#define MIN_KV_BYTES     14u
#define MIN_TENSOR_BYTES 33u

struct cursor {
	const uint8_t *buf;
	size_t len, pos;
	const char *name;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct cursor *c, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -1;
	n = snprintf(c->err, c->errlen, "%s: offset %zu: ", c->name, off);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static size_t left(const struct cursor *c)
{
	return c->len - c->pos;
}

/* Little-endian loads composed byte by byte: no alignment or host-order
 * assumptions. */
static uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int take(struct cursor *c, size_t n, const uint8_t **p, const char *what)
{
	*p = NULL;
	if (n > left(c))
		return fail_at(c, c->pos, "truncated: %s needs %zu bytes, %zu left", what, n, left(c));
	*p = c->buf + c->pos;
	c->pos += n;
	return 0;
}

static int read_u32(struct cursor *c, uint32_t *v, const char *what)
{
	const uint8_t *p;

	if (take(c, 4, &p, what))
		return -1;
	*v = (uint32_t)load_le(p, 4);
	return 0;
}

static int read_u64(struct cursor *c, uint64_t *v, const char *what)
{
	const uint8_t *p;

	if (take(c, 8, &p, what))
		return -1;
	*v = load_le(p, 8);
	return 0;
}

/* A length-prefixed string of at most `max` bytes, as a view. */
static int read_str(struct cursor *c, struct gguf_str *s, uint64_t max, const char *what)
{
	size_t at = c->pos;
	uint64_t n;
	const uint8_t *p;

	if (read_u64(c, &n, what))
		return -1;
	if (n > max)
		return fail_at(c, at, "%s length %llu exceeds the limit %llu", what,
		               (unsigned long long)n, (unsigned long long)max);
	if (n > left(c))
		return fail_at(c, at, "truncated: %s of %llu bytes, %zu left", what,
		               (unsigned long long)n, left(c));
	if (take(c, (size_t)n, &p, what))
		return -1;
	s->ptr = (const char *)p;
	s->len = n;
	return 0;
}

/* Keys and tensor names: non-empty printable ASCII, copied with a NUL. */
static int read_name(struct cursor *c, char **out, uint64_t max, const char *what)
{
	size_t at = c->pos;
	struct gguf_str s;

	if (read_str(c, &s, max, what))
		return -1;
	if (s.len == 0)
		return fail_at(c, at, "empty %s", what);
	for (uint64_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if (ch < 0x20 || ch > 0x7e)
			return fail_at(c, at, "%s has a non-printable byte 0x%02x", what, ch);
	}
	*out = malloc(s.len + 1);
	if (!*out)
		return fail_at(c, at, "out of memory");
	memcpy(*out, s.ptr, s.len);
	(*out)[s.len] = '\0';
	return 0;
}

size_t gguf_type_size(enum gguf_value_type t)
{
	switch (t) {
	case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
	case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
	case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
	case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
	default: return 0;
	}
}

const char *gguf_type_name(enum gguf_value_type t)
{
	static const char *const names[] = {
		"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
		"string", "array", "u64", "i64", "f64",
	};

	if ((unsigned)t < sizeof names / sizeof names[0])
		return names[t];
	return "unknown";
}

static bool type_known(uint32_t t)
{
	return t <= GGUF_TYPE_FLOAT64;
}

static bool type_signed(enum gguf_value_type t)
{
	return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 ||
	       t == GGUF_TYPE_INT64;
}

static bool type_float(enum gguf_value_type t)
{
	return t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64;
}

/* Decode one scalar of type t at p into the kv union's slots. */
static void decode_scalar(enum gguf_value_type t, const uint8_t *p, struct gguf_kv *kv)
{
	size_t n = gguf_type_size(t);
	uint64_t raw = load_le(p, n);

	switch (t) {
	case GGUF_TYPE_INT8:  kv->v.i64 = (int8_t)raw; break;
	case GGUF_TYPE_INT16: kv->v.i64 = (int16_t)raw; break;
	case GGUF_TYPE_INT32: kv->v.i64 = (int32_t)raw; break;
	case GGUF_TYPE_INT64: kv->v.i64 = (int64_t)raw; break;
	case GGUF_TYPE_FLOAT32: {
		uint32_t u = (uint32_t)raw;
		float f;
		memcpy(&f, &u, sizeof f);
		kv->v.f64 = f;
		break;
	}
	case GGUF_TYPE_FLOAT64: memcpy(&kv->v.f64, &raw, sizeof raw); break;
	case GGUF_TYPE_BOOL: kv->v.b = raw != 0; break;
	default: kv->v.u64 = raw; break;
	}
}

static int read_array(struct cursor *c, struct gguf_kv *kv)
{
	size_t at = c->pos;
	uint32_t et;
	uint64_t n;

	if (read_u32(c, &et, "array element type"))
		return -1;
	if (!type_known(et))
		return fail_at(c, at, "key '%s': unknown array element type %u", kv->key, et);
	if (et == GGUF_TYPE_ARRAY)
		return fail_at(c, at, "key '%s': nested arrays are not allowed", kv->key);
	if (read_u64(c, &n, "array length"))
		return -1;
	kv->v.arr.type = (enum gguf_value_type)et;
	kv->v.arr.n = n;
	if (et == GGUF_TYPE_STRING) {
		/* each element is at least its 8-byte length: bound n by that first */
		if (n > left(c) / 8)
			return fail_at(c, at + 4, "key '%s': array of %llu strings cannot fit in the %zu bytes left",
			               kv->key, (unsigned long long)n, left(c));
		if (n) {
			kv->v.arr.strs = calloc((size_t)n, sizeof *kv->v.arr.strs);
			if (!kv->v.arr.strs)
				return fail_at(c, at, "key '%s': out of memory for %llu strings", kv->key,
				               (unsigned long long)n);
		}
		kv->v.arr.data = c->buf + c->pos;
		for (uint64_t i = 0; i < n; i++)
			if (read_str(c, &kv->v.arr.strs[i], GGUF_MAX_STRING_LEN, "array string"))
				return -1;
		return 0;
	}
	size_t es = gguf_type_size(kv->v.arr.type), bytes;
	const uint8_t *p;
	if (__builtin_mul_overflow(n, es, &bytes) || bytes > left(c))
		return fail_at(c, at + 4, "key '%s': array of %llu %s elements cannot fit in the %zu bytes left",
		               kv->key, (unsigned long long)n, gguf_type_name(kv->v.arr.type), left(c));
	if (take(c, bytes, &p, "array data"))
		return -1;
	kv->v.arr.data = p;
	if (et == GGUF_TYPE_BOOL)
		for (uint64_t i = 0; i < n; i++)
			if (p[i] > 1)
				return fail_at(c, (size_t)(p + i - c->buf), "key '%s': bool element %llu is %u, not 0 or 1",
				               kv->key, (unsigned long long)i, p[i]);
	return 0;
}

static int read_value(struct cursor *c, struct gguf_kv *kv)
{
	size_t at = c->pos;
	const uint8_t *p;

	if (kv->type == GGUF_TYPE_STRING)
		return read_str(c, &kv->v.str, GGUF_MAX_STRING_LEN, "string value");
	if (kv->type == GGUF_TYPE_ARRAY)
		return read_array(c, kv);
	if (take(c, gguf_type_size(kv->type), &p, "value"))
		return -1;
	if (kv->type == GGUF_TYPE_BOOL && *p > 1)
		return fail_at(c, at, "key '%s': bool value is %u, not 0 or 1", kv->key, *p);
	decode_scalar(kv->type, p, kv);
	return 0;
}

/* qsort/bsearch over index arrays need the file; C has no closures, and a
 * thread-local keeps this reentrant across threads. */
static _Thread_local const struct gguf_file *sort_file;

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(sort_file->kv[*(const uint64_t *)a].key, sort_file->kv[*(const uint64_t *)b].key);
}

static int cmp_tensor_name(const void *a, const void *b)
{
	return strcmp(sort_file->tensors[*(const uint64_t *)a].name,
	              sort_file->tensors[*(const uint64_t *)b].name);
}

static int cmp_tensor_data(const void *a, const void *b)
{
	const uint8_t *x = sort_file->tensors[*(const uint64_t *)a].data;
	const uint8_t *y = sort_file->tensors[*(const uint64_t *)b].data;

	return x < y ? -1 : x > y;
}

static uint64_t *identity(uint64_t n)
{
	uint64_t *v = malloc((n ? n : 1) * sizeof *v);

	if (v)
		for (uint64_t i = 0; i < n; i++)
			v[i] = i;
	return v;
}

/* general.alignment, checked where it is read so the error points at it:
 * a u32 power of two, at least 8 (the spec) and at most 1 MiB (larger ones
 * only serve to make the padding arithmetic wrap). */
static int check_alignment(struct cursor *c, size_t at, struct gguf_file *f, const struct gguf_kv *kv)
{
	if (kv->type != GGUF_TYPE_UINT32)
		return fail_at(c, at, "general.alignment has type %s, expected u32", gguf_type_name(kv->type));
	if (kv->v.u64 < 8 || kv->v.u64 > GGUF_MAX_ALIGNMENT || (kv->v.u64 & (kv->v.u64 - 1)))
		return fail_at(c, at, "general.alignment %llu is not a power of two between 8 and %u",
		               (unsigned long long)kv->v.u64, GGUF_MAX_ALIGNMENT);
	f->alignment = (uint32_t)kv->v.u64;
	return 0;
}

static int read_kvs(struct cursor *c, struct gguf_file *f)
{
	size_t *key_at = malloc((size_t)(f->n_kv + 1) * sizeof *key_at);
	int rc = -1;

	if (!key_at)
		return fail_at(c, c->pos, "out of memory");
	f->alignment = GGUF_DEFAULT_ALIGNMENT;
	for (uint64_t i = 0; i < f->n_kv; i++) {
		struct gguf_kv *kv = &f->kv[i];
		size_t at;
		uint32_t t;

		key_at[i] = c->pos;
		if (read_name(c, &kv->key, GGUF_MAX_KEY_LEN, "key"))
			goto out;
		at = c->pos;
		if (read_u32(c, &t, "value type"))
			goto out;
		if (!type_known(t)) {
			fail_at(c, at, "key '%s': unknown value type %u", kv->key, t);
			goto out;
		}
		kv->type = (enum gguf_value_type)t;
		if (read_value(c, kv))
			goto out;
		if (!strcmp(kv->key, "general.alignment") && check_alignment(c, at, f, kv))
			goto out;
	}
	f->kv_order = identity(f->n_kv);
	if (!f->kv_order) {
		fail_at(c, c->pos, "out of memory");
		goto out;
	}
	sort_file = f;
	qsort(f->kv_order, f->n_kv, sizeof *f->kv_order, cmp_kv);
	for (uint64_t i = 1; i < f->n_kv; i++) {
		uint64_t a = f->kv_order[i - 1], b = f->kv_order[i];
		if (!strcmp(f->kv[a].key, f->kv[b].key)) {
			fail_at(c, key_at[a > b ? a : b], "duplicate key '%s'", f->kv[b].key);
			goto out;
		}
	}
	rc = 0;
out:
	free(key_at);
	return rc;
}

/* One tensor info; data offsets are checked once the data section is known. */
static int read_tensor_info(struct cursor *c, struct gguf_file *f, struct glm_tensor *t,
                            uint64_t *offset)
{
	size_t at = c->pos;
	char *name = NULL;
	uint32_t n_dims, type;
	const struct ggml_type_traits *tr;
	uint64_t nelem = 1;

	if (read_name(c, &name, GGUF_MAX_NAME_LEN, "tensor name"))
		return -1;
	t->name = name;
	at = c->pos;
	if (read_u32(c, &n_dims, "tensor n_dims"))
		return -1;
	if (n_dims < 1 || n_dims > 4)
		return fail_at(c, at, "tensor '%s': %u dimensions, expected 1 to 4", name, n_dims);
	t->n_dims = (int)n_dims;
	for (int j = 0; j < 4; j++)
		t->ne[j] = 1;
	for (uint32_t j = 0; j < n_dims; j++) {
		uint64_t ne;
		at = c->pos;
		if (read_u64(c, &ne, "tensor dimension"))
			return -1;
		if (ne == 0 || ne > INT64_MAX)
			return fail_at(c, at, "tensor '%s': dimension %u is %llu", name, j,
			               (unsigned long long)ne);
		if (__builtin_mul_overflow(nelem, ne, &nelem) || nelem > INT64_MAX)
			return fail_at(c, at, "tensor '%s': element count overflows", name);
		t->ne[j] = (int64_t)ne;
	}
	at = c->pos;
	if (read_u32(c, &type, "tensor type"))
		return -1;
	tr = ggml_type_traits_get(type);
	if (!tr)
		return fail_at(c, at, "tensor '%s': unknown tensor type %u", name, type);
	t->type = (enum ggml_type)type;
	if (t->ne[0] % tr->block_elems)
		return fail_at(c, at, "tensor '%s': row of %lld values is not a whole number of %s blocks of %u",
		               name, (long long)t->ne[0], tr->name, tr->block_elems);
	/* bytes = (ne0 / block) * block_bytes * ne1 * ne2 * ne3: divide first so
	 * nothing wraps before it is checked */
	size_t row = (size_t)(t->ne[0] / tr->block_elems), bytes;
	if (__builtin_mul_overflow(row, (size_t)tr->block_bytes, &row))
		return fail_at(c, at, "tensor '%s': size overflows", name);
	t->nb[0] = tr->block_bytes;
	t->nb[1] = row;
	bytes = row;
	for (int j = 1; j < 4; j++) {
		if (__builtin_mul_overflow(bytes, (size_t)t->ne[j], &bytes))
			return fail_at(c, at, "tensor '%s': size overflows", name);
		if (j < 3)
			t->nb[j + 1] = bytes;
	}
	t->nbytes = bytes;
	at = c->pos;
	if (read_u64(c, offset, "tensor offset"))
		return -1;
	if (*offset % f->alignment)
		return fail_at(c, at, "tensor '%s': data offset %llu is not a multiple of the alignment %u",
		               name, (unsigned long long)*offset, f->alignment);
	return 0;
}

static int read_tensors(struct cursor *c, struct gguf_file *f)
{
	/* per tensor: its data offset and where its info starts (for messages) */
	struct info { uint64_t offset; size_t at; } *info;
	size_t data;
	int rc = -1;

	info = calloc((size_t)f->n_tensors + 1, sizeof *info);
	if (!info)
		return fail_at(c, c->pos, "out of memory for %llu tensors", (unsigned long long)f->n_tensors);
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		info[i].at = c->pos;
		if (read_tensor_info(c, f, &f->tensors[i], &info[i].offset))
			goto out;
	}

	f->tensor_order = identity(f->n_tensors);
	if (!f->tensor_order) {
		fail_at(c, c->pos, "out of memory");
		goto out;
	}
	sort_file = f;
	qsort(f->tensor_order, f->n_tensors, sizeof *f->tensor_order, cmp_tensor_name);
	for (uint64_t i = 1; i < f->n_tensors; i++) {
		uint64_t a = f->tensor_order[i - 1], b = f->tensor_order[i];
		if (!strcmp(f->tensors[a].name, f->tensors[b].name)) {
			fail_at(c, info[a > b ? a : b].at, "duplicate tensor '%s'", f->tensors[b].name);
			goto out;
		}
	}

	/* The data section starts at the next multiple of the alignment; the
	 * add is checked before the mask so it cannot wrap to a small value. */
	if (__builtin_add_overflow(c->pos, (size_t)f->alignment - 1, &data)) {
		fail_at(c, c->pos, "data section offset overflows");
		goto out;
	}
	data &= ~((size_t)f->alignment - 1);
	if (data > c->len) {
		if (f->n_tensors) {
			fail_at(c, c->pos, "truncated: the data section starts at %zu, past the end (%zu bytes)",
			        data, c->len);
			goto out;
		}
		data = c->len;   /* a metadata-only file need not pad its end */
	}
	f->data_offset = data;
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		struct glm_tensor *t = &f->tensors[i];
		uint64_t end;
		if (__builtin_add_overflow(info[i].offset, (uint64_t)t->nbytes, &end) || end > c->len - data) {
			fail_at(c, info[i].at, "tensor '%s': data at %llu + %zu bytes lies past the end of the "
			        "file (%zu bytes of data)", t->name, (unsigned long long)info[i].offset,
			        t->nbytes, c->len - data);
			goto out;
		}
		t->data = c->buf + data + info[i].offset;
	}

	/* no two tensors may share bytes: sort by address, compare neighbours */
	uint64_t *by_data = identity(f->n_tensors);
	if (!by_data) {
		fail_at(c, c->pos, "out of memory");
		goto out;
	}
	qsort(by_data, f->n_tensors, sizeof *by_data, cmp_tensor_data);
	for (uint64_t i = 1; i < f->n_tensors; i++) {
		const struct glm_tensor *a = &f->tensors[by_data[i - 1]], *b = &f->tensors[by_data[i]];
		if ((const uint8_t *)a->data + a->nbytes > (const uint8_t *)b->data) {
			fail_at(c, info[by_data[i]].at, "tensor '%s': data overlaps tensor '%s'",
			        b->name, a->name);
			free(by_data);
			goto out;
		}
	}
	free(by_data);
	rc = 0;
out:
	free(info);
	return rc;
}

int gguf_parse(const void *buf, size_t len, const char *name, struct gguf_file **out,
               char *err, size_t errlen)
{
	struct cursor c = {buf, len, 0, name ? name : "(buffer)", err, errlen};
	struct gguf_file *f;
	uint32_t magic, version;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(c.name))) {
		free(f);
		return fail_at(&c, 0, "out of memory");
	}
	c.name = f->path;
	f->base = buf;
	f->size = len;

	if (len == 0) {
		fail_at(&c, 0, "empty file");
		goto bad;
	}
	if (read_u32(&c, &magic, "magic"))
		goto bad;
	if (magic != GGUF_MAGIC) {
		fail_at(&c, 0, "not a GGUF file (bad magic)");
		goto bad;
	}
	if (read_u32(&c, &version, "version"))
		goto bad;
	if (version && !(version & 0xffff)) {
		fail_at(&c, 4, "GGUF version %u: a big-endian file; only little-endian is supported", version);
		goto bad;
	}
	if (version != 2 && version != 3) {
		fail_at(&c, 4, "unsupported GGUF version %u (2 and 3 are supported)", version);
		goto bad;
	}
	f->version = version;
	if (read_u64(&c, &f->n_tensors, "tensor count") || read_u64(&c, &f->n_kv, "key count"))
		goto bad;
	/* bound both counts by what the rest of the file could hold */
	if (f->n_kv > left(&c) / MIN_KV_BYTES) {
		fail_at(&c, 16, "key count %llu cannot fit in a file of %zu bytes",
		        (unsigned long long)f->n_kv, len);
		goto bad;
	}
	if (f->n_tensors > left(&c) / MIN_TENSOR_BYTES) {
		fail_at(&c, 8, "tensor count %llu cannot fit in a file of %zu bytes",
		        (unsigned long long)f->n_tensors, len);
		goto bad;
	}
	/* calloc checks n × size itself; +1 keeps zero counts non-NULL */
	f->kv = calloc((size_t)f->n_kv + 1, sizeof *f->kv);
	f->tensors = calloc((size_t)f->n_tensors + 1, sizeof *f->tensors);
	if (!f->kv || !f->tensors) {
		fail_at(&c, 8, "out of memory");
		goto bad;
	}
	if (read_kvs(&c, f) || read_tensors(&c, f))
		goto bad;
	*out = f;
	return 0;
bad:
	gguf_close(f);
	return -1;
}

int gguf_open(const char *path, struct gguf_file **out, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		snprintf(err, errlen, "%s: file too large to map", path);
		close(fd);
		return -1;
	}
	/* Map the whole file (files above 4 GiB included); the parser then only
	 * reads inside st_size, so a short file cannot fault. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	rc = gguf_parse(map, (size_t)st.st_size, path, out, err, errlen);
	if (rc) {
		munmap(map, (size_t)st.st_size);
		return rc;
	}
	(*out)->mapped = true;
	return 0;
}

void gguf_close(struct gguf_file *f)
{
	if (!f)
		return;
	if (f->kv)
		for (uint64_t i = 0; i < f->n_kv; i++) {
			free(f->kv[i].key);
			if (f->kv[i].type == GGUF_TYPE_ARRAY)
				free(f->kv[i].v.arr.strs);
		}
	if (f->tensors)
		for (uint64_t i = 0; i < f->n_tensors; i++)
			free((char *)f->tensors[i].name);
	free(f->kv);
	free(f->tensors);
	free(f->kv_order);
	free(f->tensor_order);
	if (f->mapped)
		munmap((void *)f->base, f->size);
	free(f->path);
	free(f);
}

/* ---- lookups ---- */

const struct gguf_kv *gguf_find(const struct gguf_file *f, const char *key)
{
	uint64_t lo = 0, hi;

	if (!f || !f->kv_order)
		return NULL;
	hi = f->n_kv;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct gguf_kv *kv = &f->kv[f->kv_order[mid]];
		int d = strcmp(kv->key, key);
		if (!d)
			return kv;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct glm_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name)
{
	uint64_t lo = 0, hi;

	if (!f || !f->tensor_order)
		return NULL;
	hi = f->n_tensors;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct glm_tensor *t = &f->tensors[f->tensor_order[mid]];
		int d = strcmp(t->name, name);
		if (!d)
			return t;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool type_integer(enum gguf_value_type t)
{
	return gguf_type_size(t) && !type_float(t) && t != GGUF_TYPE_BOOL;
}

int gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -1;
	if (!type_integer(kv->type) || (type_signed(kv->type) && kv->v.i64 < 0))
		return -2;
	*out = kv->v.u64;
	return 0;
}

int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out)
{
	uint64_t v;
	int rc = gguf_get_u64(f, key, &v);

	if (rc)
		return rc;
	if (v > UINT32_MAX)
		return -2;
	*out = (uint32_t)v;
	return 0;
}

int gguf_get_f32(const struct gguf_file *f, const char *key, float *out)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -1;
	if (!type_float(kv->type))
		return -2;
	*out = (float)kv->v.f64;
	return 0;
}

int gguf_get_bool(const struct gguf_file *f, const char *key, bool *out)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -1;
	if (kv->type != GGUF_TYPE_BOOL)
		return -2;
	*out = kv->v.b;
	return 0;
}

char *gguf_get_str(const struct gguf_file *f, const char *key)
{
	const struct gguf_kv *kv = gguf_find(f, key);
	char *s;

	if (!kv || kv->type != GGUF_TYPE_STRING)
		return NULL;
	s = malloc(kv->v.str.len + 1);
	if (!s)
		return NULL;
	memcpy(s, kv->v.str.ptr, kv->v.str.len);
	s[kv->v.str.len] = '\0';
	return s;
}

/* ---- array elements ---- */

static void arr_elem(const struct gguf_kv *kv, uint64_t i, struct gguf_kv *tmp)
{
	size_t es = gguf_type_size(kv->v.arr.type);

	tmp->v.u64 = 0;
	if (es)
		decode_scalar(kv->v.arr.type, (const uint8_t *)kv->v.arr.data + i * es, tmp);
}

int64_t gguf_arr_int(const struct gguf_kv *kv, uint64_t i)
{
	struct gguf_kv tmp;
	enum gguf_value_type t = kv->v.arr.type;

	arr_elem(kv, i, &tmp);
	if (type_float(t))   /* NaN and out-of-range values convert to 0, not UB */
		return tmp.v.f64 >= -9.2e18 && tmp.v.f64 <= 9.2e18 ? (int64_t)tmp.v.f64 : 0;
	if (t == GGUF_TYPE_BOOL)
		return tmp.v.b;
	return tmp.v.i64;
}

double gguf_arr_float(const struct gguf_kv *kv, uint64_t i)
{
	struct gguf_kv tmp;
	enum gguf_value_type t = kv->v.arr.type;

	arr_elem(kv, i, &tmp);
	if (type_float(t))
		return tmp.v.f64;
	if (t == GGUF_TYPE_BOOL)
		return tmp.v.b;
	if (type_signed(t))
		return (double)tmp.v.i64;
	return (double)tmp.v.u64;
}
