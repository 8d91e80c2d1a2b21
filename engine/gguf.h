/* GGUF v2/v3 reader. One parser over (buffer, length) that trusts nothing:
 * every count, length and offset is checked against the buffer before use.
 * gguf_open() maps a file read-only and parses it; tensors point into the
 * mapping. Errors are "FILE: offset N: what is wrong" strings. */
#ifndef GLM_GGUF_H
#define GLM_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

enum gguf_value_type {
	GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
};

/* A string inside the mapping: not NUL-terminated. */
struct gguf_str { const char *ptr; uint64_t len; };

struct gguf_kv {
	char *key;                     /* NUL-terminated copy */
	enum gguf_value_type type;
	union {
		uint64_t u64; int64_t i64; double f64; bool b;
		struct gguf_str str;
		struct {
			enum gguf_value_type type;   /* element type (never ARRAY) */
			uint64_t n;
			const void *data;            /* packed elements (unaligned: use gguf_arr_int/float) */
			struct gguf_str *strs;       /* string arrays: n entries, parsed up front */
		} arr;
	} v;
};

struct gguf_file {
	char *path;                    /* for messages */
	const uint8_t *base;           /* mapping (or caller's buffer) */
	size_t size;
	uint32_t version;
	uint32_t alignment;
	struct gguf_kv *kv;  uint64_t n_kv;
	struct glm_tensor *tensors; uint64_t n_tensors;
	size_t data_offset;            /* start of the tensor data section */
	bool mapped;
	/* lookup indexes, sorted by name (private to gguf.c) */
	uint64_t *kv_order, *tensor_order;
};

/* Limits the parser enforces (beyond "inside the file"). */
#define GGUF_MAX_KEY_LEN     65535u       /* spec */
#define GGUF_MAX_NAME_LEN    63u          /* tensor names, ggml's GGML_MAX_NAME - 1 */
#define GGUF_MAX_STRING_LEN  (64u << 20)  /* one string value */
#define GGUF_MAX_ALIGNMENT   (1u << 20)

/* Parse a buffer the caller keeps alive; `name` labels errors. */
int  gguf_parse(const void *buf, size_t len, const char *name, struct gguf_file **out, char *err, size_t errlen);
/* mmap + parse. */
int  gguf_open(const char *path, struct gguf_file **out, char *err, size_t errlen);
void gguf_close(struct gguf_file *f);

const struct gguf_kv *gguf_find(const struct gguf_file *f, const char *key);
const struct glm_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name);

/* Typed lookups. Return 0 and set *out when the key exists with a
 * compatible scalar type (any integer type for the integer getters, f32 or
 * f64 for the float one); -1 when absent; -2 when present with a wrong type. */
int gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out);
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out);
int gguf_get_f32(const struct gguf_file *f, const char *key, float *out);
int gguf_get_bool(const struct gguf_file *f, const char *key, bool *out);
/* NUL-terminated malloc'd copy, or NULL when absent or not a string. */
char *gguf_get_str(const struct gguf_file *f, const char *key);

/* Array elements (elements may be unaligned in the file: always use these).
 * Integer and bool arrays: gguf_arr_int; float arrays: gguf_arr_float; both
 * also convert the other numeric kinds. i < kv->v.arr.n is the caller's job. */
int64_t gguf_arr_int(const struct gguf_kv *kv, uint64_t i);
double  gguf_arr_float(const struct gguf_kv *kv, uint64_t i);
/* Size in bytes of a scalar value type (0 for STRING, ARRAY, unknown). */
size_t  gguf_type_size(enum gguf_value_type t);
const char *gguf_type_name(enum gguf_value_type t);

#ifdef __cplusplus
}
#endif

#endif
