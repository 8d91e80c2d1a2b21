/* The GGUF parser against handcrafted files: a small valid file (v2 and v3)
 * written byte by byte, then one defect at a time (the failure classes of
 * the llama.cpp parser CVEs and of its tests/test-gguf.cpp), truncation at
 * every byte, random corruption, and gguf_open's file-system cases. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/gguf.h"
#include "tests/tap.h"
#include "tests/gguf_writer.h"

enum defect {
	OK,
	BAD_MAGIC, VERSION_0, VERSION_1, VERSION_FUTURE, WRONG_ENDIAN,
	HUGE_N_KV, HUGE_N_TENSORS,
	KEY_LEN_HUGE, KEY_EMPTY, KEY_NONPRINT, KEY_DUPLICATE,
	VALUE_TYPE_UNKNOWN, STRING_LEN_MAX, STRING_TOO_LONG, BOOL_NOT_01,
	ARRAY_ELEM_UNKNOWN, ARRAY_NESTED, ARRAY_N_OVERFLOW, ARRAY_N_HUGE, STRING_ARRAY_HUGE,
	ALIGN_NOT_POW2, ALIGN_ZERO, ALIGN_HUGE, ALIGN_WRONG_TYPE,
	TNAME_LONG, TNAME_EMPTY, NDIMS_0, NDIMS_5, DIM_ZERO, DIM_NEGATIVE,
	NE_OVERFLOW, NBYTES_OVERFLOW, TYPE_UNKNOWN, TYPE_NEGATIVE, ROW_NOT_BLOCKS,
	OFFSET_UNALIGNED, DATA_PAST_EOF, OFFSET_WRAP, OVERLAP, TENSOR_DUPLICATE,
	N_DEFECTS
};

static const struct { const char *name, *expect; } defects[N_DEFECTS] = {
	[OK] = {"valid", NULL},
	[BAD_MAGIC] = {"bad magic", "bad magic"},
	[VERSION_0] = {"version 0", "unsupported GGUF version 0"},
	[VERSION_1] = {"version 1", "unsupported GGUF version 1"},
	[VERSION_FUTURE] = {"version 4", "unsupported GGUF version 4"},
	[WRONG_ENDIAN] = {"big-endian file", "big-endian"},
	[HUGE_N_KV] = {"absurd key count", "key count"},
	[HUGE_N_TENSORS] = {"absurd tensor count", "tensor count"},
	[KEY_LEN_HUGE] = {"key length 2^64-1", "key length"},
	[KEY_EMPTY] = {"empty key", "empty key"},
	[KEY_NONPRINT] = {"key with a control byte", "non-printable"},
	[KEY_DUPLICATE] = {"duplicate key", "duplicate key 'general.architecture'"},
	[VALUE_TYPE_UNKNOWN] = {"unknown value type", "unknown value type 13"},
	[STRING_LEN_MAX] = {"string length 2^64-1 (CVE-2024-23496)", "string value length"},
	[STRING_TOO_LONG] = {"string length past the end", "string value of 4096 bytes"},
	[BOOL_NOT_01] = {"bool value 2", "bool value is 2"},
	[ARRAY_ELEM_UNKNOWN] = {"unknown array element type", "unknown array element type 99"},
	[ARRAY_NESTED] = {"nested array", "nested arrays"},
	[ARRAY_N_OVERFLOW] = {"array n x size overflows (CVE-2024-21825)", "cannot fit"},
	[ARRAY_N_HUGE] = {"array longer than the file", "cannot fit"},
	[STRING_ARRAY_HUGE] = {"string array longer than the file", "strings cannot fit"},
	[ALIGN_NOT_POW2] = {"alignment 48", "general.alignment 48"},
	[ALIGN_ZERO] = {"alignment 0", "general.alignment 0"},
	[ALIGN_HUGE] = {"alignment 2^30", "general.alignment 1073741824"},
	[ALIGN_WRONG_TYPE] = {"alignment as u64", "general.alignment has type u64"},
	[TNAME_LONG] = {"tensor name of 64 bytes", "tensor name length 64"},
	[TNAME_EMPTY] = {"empty tensor name", "empty tensor name"},
	[NDIMS_0] = {"0 dimensions", "0 dimensions"},
	[NDIMS_5] = {"5 dimensions (CVE-2024-21802)", "5 dimensions"},
	[DIM_ZERO] = {"a zero dimension", "dimension 1 is 0"},
	[DIM_NEGATIVE] = {"a negative dimension", "dimension 0 is 9223372036854775808"},
	[NE_OVERFLOW] = {"element count overflows", "element count overflows"},
	[NBYTES_OVERFLOW] = {"byte size overflows (CVE-2026-33298)", "size overflows"},
	[TYPE_UNKNOWN] = {"unknown tensor type 4", "unknown tensor type 4"},
	[TYPE_NEGATIVE] = {"tensor type -1", "unknown tensor type 4294967295"},
	[ROW_NOT_BLOCKS] = {"Q8_0 row of 33", "not a whole number of Q8_0 blocks"},
	[OFFSET_UNALIGNED] = {"unaligned data offset", "not a multiple of the alignment"},
	[DATA_PAST_EOF] = {"tensor data past the end", "tensor 'c': data at 1024"},
	[OFFSET_WRAP] = {"offset + size wraps", "past the end"},
	[OVERLAP] = {"overlapping tensors", "overlaps"},
	[TENSOR_DUPLICATE] = {"duplicate tensor", "duplicate tensor 'a'"},
};

static void key(struct gw *w, const char *k, uint32_t type)
{
	gw_str(w, k);
	gw_u32(w, type);
}

/* The valid file: 10 keys of every kind and three tensors (F32, Q8_0, F16)
 * whose data ends exactly at the end of the file, so every truncation cuts
 * something. Data bytes: a = floats 0..7, b = 0x11..., c = 0x22... */
static void build(struct gw *w, uint32_t version, enum defect d)
{
	w->n = 0;
	gw_bytes(w, d == BAD_MAGIC ? "GGUX" : "GGUF", 4);
	gw_u32(w, d == VERSION_0 ? 0 : d == VERSION_1 ? 1 : d == VERSION_FUTURE ? 4 :
	          d == WRONG_ENDIAN ? 0x03000000u : version);
	gw_u64(w, d == HUGE_N_TENSORS ? UINT64_MAX / 2 : 3);
	gw_u64(w, d == HUGE_N_KV ? UINT64_MAX : 10);

	/* 1: architecture */
	if (d == KEY_LEN_HUGE) {
		gw_u64(w, UINT64_MAX);
		gw_bytes(w, "general.architecture", 20);
	} else if (d == KEY_EMPTY) {
		gw_u64(w, 0);
	} else {
		gw_str(w, d == KEY_NONPRINT ? "general.arch\001tecture" : "general.architecture");
	}
	gw_u32(w, GGUF_TYPE_STRING);
	if (d == STRING_LEN_MAX)
		gw_u64(w, UINT64_MAX);
	else if (d == STRING_TOO_LONG)
		gw_u64(w, 4096);
	else
		gw_u64(w, 4);
	gw_bytes(w, "test", 4);
	/* 2: alignment */
	if (d == ALIGN_WRONG_TYPE) {
		key(w, "general.alignment", GGUF_TYPE_UINT64);
		gw_u64(w, 32);
	} else {
		key(w, "general.alignment", GGUF_TYPE_UINT32);
		gw_u32(w, d == ALIGN_NOT_POW2 ? 48 : d == ALIGN_ZERO ? 0 : d == ALIGN_HUGE ? 1u << 30 : 32);
	}
	/* 3..6: scalars */
	key(w, d == KEY_DUPLICATE ? "general.architecture" : "test.u8",
	    d == VALUE_TYPE_UNKNOWN ? 13 : GGUF_TYPE_UINT8);
	gw_u8(w, 7);
	key(w, "test.i32", GGUF_TYPE_INT32);
	gw_u32(w, (uint32_t)-5);
	key(w, "test.f32", GGUF_TYPE_FLOAT32);
	gw_f32(w, 1.5f);
	key(w, "test.bool", GGUF_TYPE_BOOL);
	gw_u8(w, d == BOOL_NOT_01 ? 2 : 1);
	/* 7: u32 array */
	key(w, "test.ints", GGUF_TYPE_ARRAY);
	gw_u32(w, d == ARRAY_ELEM_UNKNOWN ? 99 : d == ARRAY_NESTED ? GGUF_TYPE_ARRAY : GGUF_TYPE_UINT32);
	gw_u64(w, d == ARRAY_N_OVERFLOW ? (1ull << 62) + 1 : d == ARRAY_N_HUGE ? 1ull << 40 : 3);
	for (uint32_t i = 1; i <= 3; i++)
		gw_u32(w, i);
	/* 8: string array */
	key(w, "test.strs", GGUF_TYPE_ARRAY);
	gw_u32(w, GGUF_TYPE_STRING);
	gw_u64(w, d == STRING_ARRAY_HUGE ? 1ull << 61 : 3);
	gw_str(w, "ab");
	gw_str(w, "");
	gw_str(w, "cde");
	/* 9, 10 */
	key(w, "test.f64", GGUF_TYPE_FLOAT64);
	{ double x = 0.25; uint64_t u; memcpy(&u, &x, 8); gw_u64(w, u); }
	key(w, "test.i64", GGUF_TYPE_INT64);
	gw_u64(w, (uint64_t)-1);

	/* tensor a: F32 [4, 2] at 0 (32 bytes) */
	if (d == TNAME_LONG)
		gw_str(w, "a123456789012345678901234567890123456789012345678901234567890123");
	else if (d == TNAME_EMPTY)
		gw_u64(w, 0);
	else
		gw_str(w, "a");
	switch (d) {
	case NDIMS_0: gw_u32(w, 0); break;
	case NDIMS_5: gw_u32(w, 5); for (int i = 0; i < 5; i++) gw_u64(w, 1); break;
	case DIM_ZERO: gw_u32(w, 2); gw_u64(w, 4); gw_u64(w, 0); break;
	case DIM_NEGATIVE: gw_u32(w, 2); gw_u64(w, 1ull << 63); gw_u64(w, 2); break;
	case NE_OVERFLOW: gw_u32(w, 2); gw_u64(w, 1ull << 32); gw_u64(w, 1ull << 32); break;
	case NBYTES_OVERFLOW: gw_u32(w, 2); gw_u64(w, 1ull << 31); gw_u64(w, 1ull << 31); break;
	default: gw_u32(w, 2); gw_u64(w, 4); gw_u64(w, 2); break;
	}
	gw_u32(w, d == TYPE_UNKNOWN ? 4 : d == TYPE_NEGATIVE ? UINT32_MAX : 0);
	gw_u64(w, 0);
	/* tensor b: Q8_0 [32, 2] at 32 (68 bytes) */
	gw_str(w, "b");
	gw_u32(w, 2);
	gw_u64(w, d == ROW_NOT_BLOCKS ? 33 : 32);
	gw_u64(w, 2);
	gw_u32(w, 8);
	gw_u64(w, d == OFFSET_UNALIGNED ? 36 : d == OVERLAP ? 0 : 32);
	/* tensor c: F16 [8] at 128 (16 bytes) */
	gw_str(w, d == TENSOR_DUPLICATE ? "a" : "c");
	gw_u32(w, 1);
	gw_u64(w, 8);
	gw_u32(w, 1);
	gw_u64(w, d == DATA_PAST_EOF ? 1024 : d == OFFSET_WRAP ? UINT64_MAX - 31 : 128);

	gw_pad(w, 32);
	for (int i = 0; i < 8; i++)
		gw_f32(w, (float)i);
	for (int i = 0; i < 68; i++)
		gw_u8(w, 0x11);
	gw_pad(w, 32);
	for (int i = 0; i < 16; i++)
		gw_u8(w, 0x22);
}

static void check_valid(uint32_t version)
{
	struct gw w = {0};
	struct gguf_file *f = NULL;
	char err[512];
	uint32_t u32;
	uint64_t u64;
	float fl;
	bool b;

	build(&w, version, OK);
	int rc = gguf_parse(w.p, w.n, "v.gguf", &f, err, sizeof err);
	if (!ok(rc == 0 && f, "valid v%u file parses", version)) {
		diag("%s", err);
		free(w.p);
		return;
	}
	ok(f->version == version && f->n_kv == 10 && f->n_tensors == 3 && f->alignment == 32,
	   "v%u: version, counts and alignment", version);
	char *arch = gguf_get_str(f, "general.architecture");
	is_str(arch, "test", "v%u: string key", version);
	free(arch);
	ok(gguf_get_u32(f, "test.u8", &u32) == 0 && u32 == 7, "v%u: u8 read as u32", version);
	ok(gguf_get_u64(f, "test.i32", &u64) == -2, "v%u: negative i32 refused as unsigned", version);
	ok(gguf_find(f, "test.i32")->v.i64 == -5 && gguf_find(f, "test.i64")->v.i64 == -1,
	   "v%u: signed values", version);
	ok(gguf_get_f32(f, "test.f32", &fl) == 0 && fl == 1.5f, "v%u: f32", version);
	ok(gguf_get_f32(f, "test.f64", &fl) == 0 && fl == 0.25f, "v%u: f64 read as f32", version);
	ok(gguf_get_bool(f, "test.bool", &b) == 0 && b, "v%u: bool", version);
	ok(gguf_get_u32(f, "nope", &u32) == -1 && gguf_get_bool(f, "test.u8", &b) == -2 &&
	   !gguf_get_str(f, "test.u8"), "v%u: absent and wrong-typed keys", version);
	const struct gguf_kv *ints = gguf_find(f, "test.ints"), *strs = gguf_find(f, "test.strs");
	ok(ints && ints->v.arr.n == 3 && gguf_arr_int(ints, 0) == 1 && gguf_arr_int(ints, 2) == 3 &&
	   gguf_arr_float(ints, 1) == 2.0, "v%u: u32 array", version);
	ok(strs && strs->v.arr.n == 3 && strs->v.arr.strs[0].len == 2 &&
	   !memcmp(strs->v.arr.strs[0].ptr, "ab", 2) && strs->v.arr.strs[1].len == 0 &&
	   strs->v.arr.strs[2].len == 3 && !memcmp(strs->v.arr.strs[2].ptr, "cde", 3),
	   "v%u: string array", version);
	const struct glm_tensor *a = gguf_find_tensor(f, "a"), *tb = gguf_find_tensor(f, "b"),
	                        *c = gguf_find_tensor(f, "c");
	ok(a && tb && c && !gguf_find_tensor(f, "d"), "v%u: tensors found by name", version);
	if (a && tb && c) {
		float a5;
		memcpy(&a5, (const char *)a->data + 20, 4);
		ok(f->data_offset % 32 == 0 && a->data == w.p + f->data_offset && a5 == 5.0f,
		   "v%u: tensor a's data at the data section start", version);
		ok(tb->type == GGML_TYPE_Q8_0 && tb->nb[0] == 34 && tb->nb[1] == 34 && tb->nbytes == 68 &&
		   tb->data == w.p + f->data_offset + 32 && *(const uint8_t *)tb->data == 0x11,
		   "v%u: Q8_0 tensor geometry", version);
		ok(c->n_dims == 1 && c->ne[0] == 8 && c->ne[1] == 1 && c->nbytes == 16 &&
		   (const uint8_t *)c->data + 16 == w.p + w.n && *(const uint8_t *)c->data == 0x22,
		   "v%u: F16 tensor ends at the end of the file", version);
	}
	gguf_close(f);
	free(w.p);
}

static void check_defects(void)
{
	struct gw w = {0};

	for (int d = 1; d < N_DEFECTS; d++) {
		struct gguf_file *f = NULL;
		char err[512] = "";
		build(&w, 3, (enum defect)d);
		int rc = gguf_parse(w.p, w.n, "bad.gguf", &f, err, sizeof err);
		bool named = !strncmp(err, "bad.gguf: offset ", 17);
		if (!ok(rc != 0 && !f && named && strstr(err, defects[d].expect),
		        "rejects %s", defects[d].name))
			diag("  error: \"%s\", want it to mention \"%s\"", err, defects[d].expect);
		gguf_close(f);
	}
	free(w.p);
}

/* Every proper prefix of the valid file is an error naming a truncation. */
static void check_truncations(uint32_t version)
{
	struct gw w = {0};
	size_t bad = 0, first = 0;
	char err[512], first_err[512] = "";

	build(&w, version, OK);
	for (size_t len = 0; len < w.n; len++) {
		struct gguf_file *f = NULL;
		/* a fresh copy of exactly len bytes, so ASan sees any over-read */
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, w.p, len);
		err[0] = '\0';
		int rc = gguf_parse(copy, len, "t.gguf", &f, err, sizeof err);
		bool good = rc != 0 && !f && !strncmp(err, "t.gguf: offset ", 15) &&
		            (strstr(err, "truncated") || strstr(err, "past the end") ||
		             strstr(err, "empty file") || strstr(err, "cannot fit"));
		if (!good && !bad++) {
			first = len;
			snprintf(first_err, sizeof first_err, "%s", err);
		}
		gguf_close(f);
		free(copy);
	}
	if (!ok(bad == 0, "v%u: all %zu truncations rejected as truncated", version, w.n))
		diag("  %zu bad, first at %zu bytes: \"%s\"", bad, first, first_err);
	free(w.p);
}

/* Random byte corruption never crashes, and every rejection says why. */
static void check_corruption(void)
{
	struct gw w = {0};
	unsigned seed = 12345, accepted = 0, silent = 0;

	build(&w, 3, OK);
	uint8_t *copy = malloc(w.n);
	for (int iter = 0; iter < 3000; iter++) {
		struct gguf_file *f = NULL;
		char err[512] = "";
		memcpy(copy, w.p, w.n);
		int flips = 1 + iter % 4;
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % w.n;
			seed = seed * 1103515245u + 12345u;
			copy[at] = (uint8_t)(seed >> 16);
		}
		if (gguf_parse(copy, w.n, "r.gguf", &f, err, sizeof err) == 0)
			accepted++;
		else if (!err[0])
			silent++;
		gguf_close(f);
	}
	ok(silent == 0, "3000 random corruptions: no crash, every rejection has a message "
	   "(%u still valid)", accepted);
	free(copy);
	free(w.p);
}

static void check_alignment_64(void)
{
	struct gw w = {0};
	struct gguf_file *f = NULL;
	char err[512];

	/* same layout, alignment 64, offsets 0/64/128 */
	gw_bytes(&w, "GGUF", 4);
	gw_u32(&w, 3);
	gw_u64(&w, 2);
	gw_u64(&w, 1);
	key(&w, "general.alignment", GGUF_TYPE_UINT32);
	gw_u32(&w, 64);
	gw_str(&w, "x");
	gw_u32(&w, 1); gw_u64(&w, 4); gw_u32(&w, 0); gw_u64(&w, 0);
	gw_str(&w, "y");
	gw_u32(&w, 1); gw_u64(&w, 4); gw_u32(&w, 0); gw_u64(&w, 64);
	gw_pad(&w, 64);
	for (int i = 0; i < 80; i++)
		gw_u8(&w, (uint8_t)i);
	int rc = gguf_parse(w.p, w.n, "a64.gguf", &f, err, sizeof err);
	ok(rc == 0 && f->alignment == 64 && f->data_offset % 64 == 0 &&
	   gguf_find_tensor(f, "y")->data == w.p + f->data_offset + 64, "alignment 64 honoured");
	if (rc)
		diag("%s", err);
	gguf_close(f);
	free(w.p);
}

static char tmpdir[4096];

static const char *tmp_file(const char *name, const void *data, size_t n)
{
	static char path[4200];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	if (!fp)
		bail_out("cannot write %s: %s", path, strerror(errno));
	if (n)
		fwrite(data, 1, n, fp);
	fclose(fp);
	return path;
}

static void check_open(void)
{
	struct gguf_file *f = NULL;
	char err[512], path[4200];
	struct gw w = {0};

	ok(gguf_open("/nonexistent/x.gguf", &f, err, sizeof err) && !f &&
	   strstr(err, "/nonexistent/x.gguf: ") && strstr(err, "No such file"), "open: nonexistent file");
	ok(gguf_open(tmpdir, &f, err, sizeof err) && !f && strstr(err, "is a directory"),
	   "open: a directory");
	ok(gguf_open(tmp_file("empty.gguf", "", 0), &f, err, sizeof err) && !f &&
	   strstr(err, "empty file"), "open: empty file");
	ok(gguf_open(tmp_file("garbage.gguf", "hello world, not a model\n", 25), &f, err, sizeof err) &&
	   !f && strstr(err, "bad magic"), "open: a text file");
	build(&w, 3, OK);
	ok(gguf_open(tmp_file("short.gguf", w.p, w.n - 1), &f, err, sizeof err) && !f &&
	   strstr(err, "past the end"), "open: file one byte short");
	snprintf(path, sizeof path, "%s", tmp_file("good.gguf", w.p, w.n));
	if (ok(gguf_open(path, &f, err, sizeof err) == 0 && f && f->mapped, "open: valid file mapped")) {
		ok(!strcmp(f->path, path) && gguf_find_tensor(f, "c") &&
		   *(const uint8_t *)gguf_find_tensor(f, "c")->data == 0x22, "open: data readable");
		gguf_close(f);
	} else {
		diag("%s", err);
		skip(1, "no file");
	}
	free(w.p);
}

/* A sparse file over 4 GiB whose one tensor lies past the 4 GiB mark:
 * offsets and sizes must be 64-bit throughout. */
static void check_large_file(void)
{
	const uint64_t off = (4ull << 30) + 4096;   /* 4 GiB + 4 KiB into the data */
	struct gw w = {0};
	struct gguf_file *f = NULL;
	char err[512], path[4200];
	int fd;

	gw_bytes(&w, "GGUF", 4);
	gw_u32(&w, 3);
	gw_u64(&w, 1);
	gw_u64(&w, 0);
	gw_str(&w, "far");
	gw_u32(&w, 1); gw_u64(&w, 8); gw_u32(&w, 0); gw_u64(&w, off);
	gw_pad(&w, 32);
	size_t data = w.n;
	snprintf(path, sizeof path, "%s/big.gguf", tmpdir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0 || write(fd, w.p, w.n) != (ssize_t)w.n || ftruncate(fd, (off_t)(data + off + 32))) {
		skip(2, "cannot make a sparse 4 GiB file here: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		free(w.p);
		return;
	}
	close(fd);
	int rc = gguf_open(path, &f, err, sizeof err);
	ok(rc == 0 && f->size == data + off + 32, "open: file over 4 GiB");
	if (rc)
		diag("%s", err);
	else
		ok((const uint8_t *)gguf_find_tensor(f, "far")->data - f->base == (ptrdiff_t)(data + off) &&
		   ((const float *)gguf_find_tensor(f, "far")->data)[7] == 0.0f,
		   "open: tensor past 4 GiB addressed and readable");
	if (rc)
		skip(1, "no file");
	gguf_close(f);
	/* the same header with the file cut short of that tensor */
	if (truncate(path, (off_t)(data + off + 16)) == 0) {
		ok(gguf_open(path, &f, err, sizeof err) && strstr(err, "past the end"),
		   "open: over 4 GiB but one tensor short");
	} else {
		skip(1, "truncate failed");
	}
	unlink(path);
	free(w.p);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_gguf.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		bail_out("mkdtemp: %s", strerror(errno));

	check_valid(3);
	check_valid(2);
	check_defects();
	check_truncations(3);
	check_truncations(2);
	check_corruption();
	check_alignment_64();
	check_open();
	check_large_file();

	static const char *const made[] = {"empty.gguf", "garbage.gguf", "short.gguf", "good.gguf"};
	char path[4200];
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, made[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return done_testing();
}
