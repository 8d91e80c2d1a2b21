/* A small GGUF writer for the tests: byte-level helpers to handcraft
 * (broken) files, and a document model that re-emits a parsed file with
 * keys and tensors changed, dropped or added. Independent of engine/gguf.c
 * except for reading the input file. Header-only, test code only. */
#ifndef GLM_TEST_GGUF_WRITER_H
#define GLM_TEST_GGUF_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/gguf.h"

/* ---- bytes ---- */

struct gw { uint8_t *p; size_t n, cap; };

static inline void gw_bytes(struct gw *w, const void *src, size_t n)
{
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->n + n)
			cap *= 2;
		w->p = realloc(w->p, cap);
		if (!w->p)
			abort();
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->n, src, n);
	w->n += n;
}

static inline void gw_uint(struct gw *w, uint64_t v, int nbytes)
{
	uint8_t b[8];

	for (int i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	gw_bytes(w, b, (size_t)nbytes);
}

static inline void gw_u8(struct gw *w, uint8_t v)   { gw_uint(w, v, 1); }
static inline void gw_u32(struct gw *w, uint32_t v) { gw_uint(w, v, 4); }
static inline void gw_u64(struct gw *w, uint64_t v) { gw_uint(w, v, 8); }

static inline void gw_f32(struct gw *w, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	gw_u32(w, u);
}

static inline void gw_str(struct gw *w, const char *s)
{
	gw_u64(w, strlen(s));
	gw_bytes(w, s, strlen(s));
}

static inline void gw_pad(struct gw *w, size_t align)
{
	while (w->n % align)
		gw_u8(w, 0);
}

/* ---- documents: a parsed file, editable, re-emitted ---- */

struct gdoc_kv {
	char key[128];
	enum gguf_value_type type;
	uint64_t u64;            /* integer and bool scalars (raw bits) */
	float f32;               /* FLOAT32 scalars */
	double f64;              /* FLOAT64 scalars */
	const char *str; uint64_t len;            /* STRING */
	enum gguf_value_type atype; uint64_t n;   /* ARRAY */
	const void *adata;       /* packed elements (non-string arrays) */
	const struct gguf_str *astrs;             /* string arrays */
};

struct gdoc_tensor {
	char name[128];
	uint32_t n_dims;
	int64_t ne[4];
	uint32_t type;
	const void *data;        /* nbytes of payload (not owned) */
	size_t nbytes;
};

struct gdoc {
	uint32_t version;
	struct gdoc_kv kv[256];
	int n_kv;
	struct gdoc_tensor t[1024];
	int n_t;
};

static inline void gdoc_from(struct gdoc *d, const struct gguf_file *f)
{
	memset(d, 0, sizeof *d);
	d->version = f->version;
	for (uint64_t i = 0; i < f->n_kv && d->n_kv < 256; i++) {
		const struct gguf_kv *kv = &f->kv[i];
		struct gdoc_kv *o = &d->kv[d->n_kv++];
		snprintf(o->key, sizeof o->key, "%s", kv->key);
		o->type = kv->type;
		switch (kv->type) {
		case GGUF_TYPE_STRING: o->str = kv->v.str.ptr; o->len = kv->v.str.len; break;
		case GGUF_TYPE_ARRAY:
			o->atype = kv->v.arr.type; o->n = kv->v.arr.n;
			o->adata = kv->v.arr.data; o->astrs = kv->v.arr.strs;
			break;
		case GGUF_TYPE_FLOAT32: o->f32 = (float)kv->v.f64; break;
		case GGUF_TYPE_FLOAT64: o->f64 = kv->v.f64; break;
		case GGUF_TYPE_BOOL: o->u64 = kv->v.b; break;
		default: o->u64 = kv->v.u64; break;
		}
	}
	for (uint64_t i = 0; i < f->n_tensors && d->n_t < 1024; i++) {
		const struct glm_tensor *t = &f->tensors[i];
		struct gdoc_tensor *o = &d->t[d->n_t++];
		snprintf(o->name, sizeof o->name, "%s", t->name);
		o->n_dims = (uint32_t)t->n_dims;
		memcpy(o->ne, t->ne, sizeof o->ne);
		o->type = t->type;
		o->data = t->data;
		o->nbytes = t->nbytes;
	}
}

static struct gdoc_kv *gdoc_kv(struct gdoc *d, const char *key)
{
	for (int i = 0; i < d->n_kv; i++)
		if (!strcmp(d->kv[i].key, key))
			return &d->kv[i];
	return NULL;
}

static struct gdoc_tensor *gdoc_tensor(struct gdoc *d, const char *name)
{
	for (int i = 0; i < d->n_t; i++)
		if (!strcmp(d->t[i].name, name))
			return &d->t[i];
	return NULL;
}

static inline void gdoc_del_kv(struct gdoc *d, const char *key)
{
	struct gdoc_kv *kv = gdoc_kv(d, key);
	if (kv) {
		memmove(kv, kv + 1, (size_t)(d->kv + d->n_kv - (kv + 1)) * sizeof *kv);
		d->n_kv--;
	}
}

static inline void gdoc_del_tensor(struct gdoc *d, const char *name)
{
	struct gdoc_tensor *t = gdoc_tensor(d, name);
	if (t) {
		memmove(t, t + 1, (size_t)(d->t + d->n_t - (t + 1)) * sizeof *t);
		d->n_t--;
	}
}

/* Set (or add) a u32 key. */
static inline void gdoc_set_u32(struct gdoc *d, const char *key, uint32_t v)
{
	struct gdoc_kv *kv = gdoc_kv(d, key);
	if (!kv) {
		kv = &d->kv[d->n_kv++];
		memset(kv, 0, sizeof *kv);
		snprintf(kv->key, sizeof kv->key, "%s", key);
	}
	kv->type = GGUF_TYPE_UINT32;
	kv->u64 = v;
}

static inline void gdoc_set_str(struct gdoc *d, const char *key, const char *s)
{
	struct gdoc_kv *kv = gdoc_kv(d, key);
	if (!kv) {
		kv = &d->kv[d->n_kv++];
		memset(kv, 0, sizeof *kv);
		snprintf(kv->key, sizeof kv->key, "%s", key);
	}
	kv->type = GGUF_TYPE_STRING;
	kv->str = s;
	kv->len = strlen(s);
}

static inline void gdoc_set_f32(struct gdoc *d, const char *key, float v)
{
	struct gdoc_kv *kv = gdoc_kv(d, key);
	if (!kv) {
		kv = &d->kv[d->n_kv++];
		memset(kv, 0, sizeof *kv);
		snprintf(kv->key, sizeof kv->key, "%s", key);
	}
	kv->type = GGUF_TYPE_FLOAT32;
	kv->f32 = v;
}

static inline void gdoc_set_bool(struct gdoc *d, const char *key, bool v)
{
	gdoc_set_u32(d, key, v);
	gdoc_kv(d, key)->type = GGUF_TYPE_BOOL;
}

/* Append a tensor of shape [n0, n1, n2] whose nbytes of payload are read
 * from data (NULL: a header-only document, see gdoc_emit_header). */
static inline void gdoc_add_tensor(struct gdoc *d, const char *name, uint32_t type,
                                   int64_t n0, int64_t n1, int64_t n2, const void *data)
{
	struct gdoc_tensor *t = &d->t[d->n_t++];
	const struct ggml_type_traits *tr = ggml_type_traits_get(type);

	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->n_dims = n2 > 1 ? 3 : n1 > 1 ? 2 : 1;
	t->ne[0] = n0; t->ne[1] = n1; t->ne[2] = n2; t->ne[3] = 1;
	t->type = type;
	t->nbytes = (size_t)(n0 / tr->block_elems) * tr->block_bytes * (size_t)(n1 * n2);
	t->data = data;
}

static inline size_t gdoc_scalar_size(enum gguf_value_type t)
{
	return gguf_type_size(t);
}

static inline void gdoc_value(struct gw *w, const struct gdoc_kv *kv)
{
	switch (kv->type) {
	case GGUF_TYPE_STRING:
		gw_u64(w, kv->len);
		gw_bytes(w, kv->str, kv->len);
		break;
	case GGUF_TYPE_ARRAY:
		gw_u32(w, kv->atype);
		gw_u64(w, kv->n);
		if (kv->atype == GGUF_TYPE_STRING)
			for (uint64_t i = 0; i < kv->n; i++) {
				gw_u64(w, kv->astrs[i].len);
				gw_bytes(w, kv->astrs[i].ptr, kv->astrs[i].len);
			}
		else
			gw_bytes(w, kv->adata, kv->n * gdoc_scalar_size(kv->atype));
		break;
	case GGUF_TYPE_FLOAT32: gw_f32(w, kv->f32); break;
	case GGUF_TYPE_FLOAT64: { uint64_t u; memcpy(&u, &kv->f64, 8); gw_u64(w, u); break; }
	default: gw_uint(w, kv->u64, (int)gdoc_scalar_size(kv->type)); break;
	}
}

/* Emit the header (alignment 32, tensors packed in order, padded to the
 * data section); returns the bytes of tensor data that must follow. */
static inline uint64_t gdoc_emit_header(const struct gdoc *d, struct gw *w)
{
	uint64_t off = 0;

	w->n = 0;
	gw_bytes(w, "GGUF", 4);
	gw_u32(w, d->version ? d->version : 3);
	gw_u64(w, (uint64_t)d->n_t);
	gw_u64(w, (uint64_t)d->n_kv);
	for (int i = 0; i < d->n_kv; i++) {
		gw_str(w, d->kv[i].key);
		gw_u32(w, d->kv[i].type);
		gdoc_value(w, &d->kv[i]);
	}
	for (int i = 0; i < d->n_t; i++) {
		const struct gdoc_tensor *t = &d->t[i];
		gw_str(w, t->name);
		gw_u32(w, t->n_dims);
		for (uint32_t j = 0; j < t->n_dims; j++)
			gw_u64(w, (uint64_t)t->ne[j]);
		gw_u32(w, t->type);
		gw_u64(w, off);
		off += (t->nbytes + 31) / 32 * 32;
	}
	gw_pad(w, 32);
	return off;
}

/* Emit the document as GGUF: header then every tensor's data. */
static inline void gdoc_emit(const struct gdoc *d, struct gw *w)
{
	gdoc_emit_header(d, w);
	for (int i = 0; i < d->n_t; i++) {
		gw_bytes(w, d->t[i].data, d->t[i].nbytes);
		gw_pad(w, 32);
	}
}

#endif
