/* Joining GGUF split files; see gguf_merge.h. The parts are read with the
 * engine's checked parser; the output is written in GGUF v3 layout: header,
 * metadata, tensor infos, then each tensor's data at the next multiple of
 * the alignment. */
#include "config.h"
#include "src/gguf_merge.h"
#include "src/atomic_write.h"
#include "engine/gguf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct out {
	FILE *f;
	uint64_t pos;
	bool failed;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (!o->failed && n && fwrite(p, 1, n, o->f) != n)
		o->failed = true;
	o->pos += n;
}

static void put_le(struct out *o, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(o, b, n);
}

static void put_str(struct out *o, const char *p, uint64_t len)
{
	put_le(o, len, 8);
	put(o, p, (size_t)len);
}

/* One scalar back in its file encoding (the parser widened it). */
static void put_scalar(struct out *o, enum gguf_value_type t, const struct gguf_kv *kv)
{
	switch (t) {
	case GGUF_TYPE_FLOAT32: {
		float f = (float)kv->v.f64;
		uint32_t u;
		memcpy(&u, &f, sizeof u);
		put_le(o, u, 4);
		break;
	}
	case GGUF_TYPE_FLOAT64: {
		uint64_t u;
		memcpy(&u, &kv->v.f64, sizeof u);
		put_le(o, u, 8);
		break;
	}
	case GGUF_TYPE_BOOL:
		put_le(o, kv->v.b, 1);
		break;
	case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
		put_le(o, (uint64_t)kv->v.i64, gguf_type_size(t));
		break;
	default:
		put_le(o, kv->v.u64, gguf_type_size(t));
		break;
	}
}

static void put_kv(struct out *o, const struct gguf_kv *kv)
{
	put_str(o, kv->key, strlen(kv->key));
	put_le(o, kv->type, 4);
	if (kv->type == GGUF_TYPE_STRING) {
		put_str(o, kv->v.str.ptr, kv->v.str.len);
	} else if (kv->type == GGUF_TYPE_ARRAY) {
		put_le(o, kv->v.arr.type, 4);
		put_le(o, kv->v.arr.n, 8);
		if (kv->v.arr.type == GGUF_TYPE_STRING)
			for (uint64_t i = 0; i < kv->v.arr.n; i++)
				put_str(o, kv->v.arr.strs[i].ptr, kv->v.arr.strs[i].len);
		else    /* packed little-endian elements, as in the part */
			put(o, kv->v.arr.data, (size_t)(kv->v.arr.n * gguf_type_size(kv->v.arr.type)));
	} else {
		put_scalar(o, kv->type, kv);
	}
}

static void pad_to(struct out *o, uint32_t align)
{
	static const uint8_t zeros[64];

	while (o->pos % align) {
		size_t n = align - o->pos % align;
		put(o, zeros, n < sizeof zeros ? n : sizeof zeros);
	}
}

static bool is_split_key(const char *k)
{
	return !strncmp(k, "split.", 6);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Each part must say it is part i of n, and together they must hold the
 * tensor count the first one announces: a mixed-up set is refused. */
static int check_parts(struct gguf_file **g, size_t n, uint64_t *n_tensors, char *err, size_t errlen)
{
	uint64_t total = 0, want, v;

	for (size_t i = 0; i < n; i++) {
		if (gguf_get_u64(g[i], "split.no", &v) || v != i)
			return fail(err, errlen, "%s: split.no is not %zu: not part %zu of this set",
			            g[i]->path, i, i + 1);
		if (gguf_get_u64(g[i], "split.count", &v) || v != n)
			return fail(err, errlen, "%s: split.count is not %zu", g[i]->path, n);
		total += g[i]->n_tensors;
	}
	if (gguf_get_u64(g[0], "split.tensors.count", &want) == 0 && want != total)
		return fail(err, errlen, "%s: the parts hold %llu tensors, the first announces %llu",
		            g[0]->path, (unsigned long long)total, (unsigned long long)want);
	*n_tensors = total;
	return 0;
}

static int write_merged(struct gguf_file **g, size_t n, uint64_t n_tensors, FILE *f)
{
	struct out o = {f, 0, false};
	uint32_t align = g[0]->alignment;
	uint64_t n_kv = 0, offset = 0;

	for (uint64_t i = 0; i < g[0]->n_kv; i++)
		n_kv += !is_split_key(g[0]->kv[i].key);
	put(&o, "GGUF", 4);
	put_le(&o, 3, 4);
	put_le(&o, n_tensors, 8);
	put_le(&o, n_kv, 8);
	for (uint64_t i = 0; i < g[0]->n_kv; i++)
		if (!is_split_key(g[0]->kv[i].key))
			put_kv(&o, &g[0]->kv[i]);
	for (size_t p = 0; p < n; p++)
		for (uint64_t i = 0; i < g[p]->n_tensors; i++) {
			const struct glm_tensor *t = &g[p]->tensors[i];
			put_str(&o, t->name, strlen(t->name));
			put_le(&o, (uint32_t)t->n_dims, 4);
			for (int d = 0; d < t->n_dims; d++)
				put_le(&o, (uint64_t)t->ne[d], 8);
			put_le(&o, (uint32_t)t->type, 4);
			put_le(&o, offset, 8);
			offset += (t->nbytes + align - 1) / align * align;
		}
	pad_to(&o, align);
	for (size_t p = 0; p < n; p++)
		for (uint64_t i = 0; i < g[p]->n_tensors; i++) {
			put(&o, g[p]->tensors[i].data, g[p]->tensors[i].nbytes);
			pad_to(&o, align);
		}
	return o.failed ? -1 : 0;
}

int gguf_merge(const char *const *parts, size_t n, const char *out, char *err, size_t errlen)
{
	struct gguf_file **g = calloc(n ? n : 1, sizeof *g);
	char tmp[4096] = "";
	uint64_t n_tensors = 0;
	FILE *f = NULL;
	int rc = -1;

	if (!g)
		return fail(err, errlen, "%s: out of memory", out);
	for (size_t i = 0; i < n; i++)
		if (gguf_open(parts[i], &g[i], err, errlen))
			goto done;
	if (!n || check_parts(g, n, &n_tensors, err, errlen))
		goto done;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.joining", out) >= sizeof tmp) {
		fail(err, errlen, "%s: path too long", out);
		goto done;
	}
	if (!(f = fopen(tmp, "wb"))) {
		fail(err, errlen, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	if (write_merged(g, n, n_tensors, f) || fflush(f) || fsync(fileno(f))) {
		fail(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		goto done;
	}
	if (fclose(f)) {
		f = NULL;
		fail(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp, out)) {
		fail(err, errlen, "%s: %s", out, strerror(errno));
		goto done;
	}
	fsync_parent_dir(out);
	tmp[0] = '\0';
	rc = 0;
done:
	if (f)
		fclose(f);
	if (rc && tmp[0] && n)
		unlink(tmp);
	for (size_t i = 0; i < n; i++)
		if (g[i])
			gguf_close(g[i]);
	free(g);
	return rc;
}
