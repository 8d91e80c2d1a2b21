/* The CUDA kernels one by one against references computed on the CPU in
 * float64 from independent code: the quant fixtures (dequantization must
 * be bit-exact, dot products within 1e-5), engine/quant.c's dequantizer for
 * random matrices of every type, and straightforward double-precision
 * attention, RMSNorm, RoPE and routing written here.
 *
 * Bounds (relative L2 error ‖gpu − ref‖/‖ref‖; NMSE is its square):
 *   GEMV, f32 arithmetic:                 1e-5
 *   GEMV, int8 activations (dp4a):        2e-2  (activations rounded to
 *                                         127 levels per 32 values)
 *   prefill GEMM, f16 operands:           3e-3
 *   plain attention, f32:                 1e-5
 *   fused attention, f16 Q/K/P operands:  3e-3   (NMSE 9e-6, under
 *                                         llama.cpp's 5e-4 for attention)
 *   cache rows: f32 1e-6, f16 1e-3, bf16 8e-3, q8_0 1.5e-2
 * Prints "1..0 # SKIP" without a CUDA device. GLMCHAT_CUDA_OPS_ONLY runs one
 * part, for the slow runs under compute-sanitizer (tests/device_check.sh):
 * attention (=attn-general + attn-decode), or gemv (everything else). */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "engine/quant.h"
#include "engine/ggml_types.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_testing.h"
#include "tests/tap.h"

static char err[512];

/* ---------------------------------------------------------------- helpers */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}
static float rndf(void) { return (float)((rnd32() & 0xFFFFFF) / 16777216.0 * 2.0 - 1.0); }   /* [-1, 1) */

static double rel_err(const float *got, const double *want, size_t n)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		const double d = (double)got[i] - want[i];
		if (isnan(got[i]))
			return INFINITY;
		num += d * d;
		den += want[i] * want[i];
	}
	return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)sz + 1);
		if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			((char *)buf)[sz] = 0;
			*len = (size_t)sz;
		}
	}
	fclose(f);
	return buf;
}

/* Offsets of the f16 scale fields of each block type: random bytes there
 * could be inf/NaN or huge; set them to small finite values. */
static void sane_scales(enum ggml_type t, uint8_t *blk)
{
	static const struct { int type, off[2]; } f[] = {
		{GGML_TYPE_Q4_0, {0, -1}}, {GGML_TYPE_Q4_1, {0, 2}}, {GGML_TYPE_Q5_0, {0, -1}},
		{GGML_TYPE_Q5_1, {0, 2}}, {GGML_TYPE_Q8_0, {0, -1}}, {GGML_TYPE_Q2_K, {80, 82}},
		{GGML_TYPE_Q3_K, {108, -1}}, {GGML_TYPE_Q4_K, {0, 2}}, {GGML_TYPE_Q5_K, {0, 2}},
		{GGML_TYPE_Q6_K, {208, -1}}, {GGML_TYPE_IQ4_NL, {0, -1}}, {GGML_TYPE_IQ4_XS, {0, -1}},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].type == (int)t)
			for (int k = 0; k < 2; k++)
				if (f[i].off[k] >= 0) {
					uint16_t h = glm_f32_to_f16(0.01f + 0.02f * (rnd32() & 1023) / 1024.0f);
					memcpy(blk + f[i].off[k], &h, 2);
				}
}

/* A random matrix of rows × cols in `type`, row-major, contiguous. */
static uint8_t *random_matrix(enum ggml_type t, int rows, int cols, size_t *nb1)
{
	const struct ggml_type_traits *tr = ggml_type_traits_get(t);
	*nb1 = ggml_row_bytes(t, cols);
	uint8_t *w = malloc(*nb1 * rows);
	if (t == GGML_TYPE_F32) {
		for (size_t i = 0; i < (size_t)rows * cols; i++)
			((float *)w)[i] = rndf();
	} else if (t == GGML_TYPE_F16 || t == GGML_TYPE_BF16) {
		for (size_t i = 0; i < (size_t)rows * cols; i++)
			((uint16_t *)w)[i] = t == GGML_TYPE_F16 ? glm_f32_to_f16(rndf()) : glm_f32_to_bf16(rndf());
	} else {
		for (size_t i = 0; i < *nb1 * rows; i++)
			w[i] = (uint8_t)rnd32();
		for (size_t b = 0; b < *nb1 * rows / tr->block_bytes; b++)
			sane_scales(t, w + b * tr->block_bytes);
	}
	return w;
}

/* rows of a matrix dequantized by engine/quant.c */
static double *ref_dequant(enum ggml_type t, const uint8_t *w, size_t nb1, int rows, int cols)
{
	double *out = malloc(sizeof(double) * rows * cols);
	float *tmp = malloc(sizeof(float) * cols);
	for (int r = 0; r < rows; r++) {
		quant_dequantize_row(t, w + r * nb1, tmp, cols);
		for (int c = 0; c < cols; c++)
			out[(size_t)r * cols + c] = tmp[c];
	}
	free(tmp);
	return out;
}

static double dotd(const double *a, const float *x, int n, double xs)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += a[i] * x[i] * xs;
	return s;
}

/* ---------------------------------------------------------------- fixtures */

static const char *fixture_types[] = {
	"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS",
};

static void test_fixtures(void)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s", fixture_path("quant/index.json"));
	char *txt = slurp(path, &len);
	cJSON *index = txt ? cJSON_Parse(txt) : NULL;
	if (!index) {
		skip(2 * 12, "quant fixtures unreadable (%s)", path);
		free(txt);
		return;
	}
	for (size_t i = 0; i < sizeof fixture_types / sizeof fixture_types[0]; i++) {
		const char *name = fixture_types[i];
		cJSON *e = cJSON_GetObjectItemCaseSensitive(index, name);
		const int type = cJSON_GetObjectItemCaseSensitive(e, "type_id")->valueint;
		const int be = cJSON_GetObjectItemCaseSensitive(e, "block_elems")->valueint;
		const int bb = cJSON_GetObjectItemCaseSensitive(e, "block_bytes")->valueint;
		const int nblk = cJSON_GetObjectItemCaseSensitive(e, "n_blocks")->valueint;
		const double dot = cJSON_GetObjectItemCaseSensitive(e, "dot_f64")->valuedouble;
		char rel[64];
		size_t lb, lf, lx;
		snprintf(rel, sizeof rel, "quant/%s.blocks", name);
		uint8_t *blocks = slurp(fixture_path(rel), &lb);
		snprintf(rel, sizeof rel, "quant/%s.f32", name);
		float *want = slurp(fixture_path(rel), &lf);
		snprintf(rel, sizeof rel, "quant/%s.x.f32", name);
		float *x = slurp(fixture_path(rel), &lx);
		const int n = be * nblk;
		if (!blocks || !want || !x || lb != (size_t)bb * nblk || lf != sizeof(float) * n || lx != lf) {
			skip(2, "%s fixture files unreadable", name);
		} else {
			float *got = malloc(sizeof(float) * n);
			int rc = glm_cuda_test_dequant(type, blocks, lb, n, 1, got, err, sizeof err);
			ok(rc == 0 && !memcmp(got, want, sizeof(float) * n), "%s: device dequantization bit-exact (%d values)",
			   name, n);
			if (rc)
				diag("%s", err);
			float y = 0;
			struct glm_cuda_gemv_test t = {0};
			t.type = type;
			t.ncols = n;
			t.nrows = 1;
			t.w = blocks;
			t.w_bytes = lb;
			t.nb1 = lb;
			t.n_tok = t.per_tok = t.n_sel = 1;
			t.x = x;
			t.x_count = n;
			t.y = &y;
			t.y_count = 1;
			rc = glm_cuda_test_gemv(&t, err, sizeof err);
			ok(rc == 0 && fabs(y - dot) <= 1e-5 * fabs(dot), "%s: device dot %.7g vs float64 %.7g", name, y, dot);
			if (rc)
				diag("%s", err);
			free(got);
		}
		free(blocks);
		free(want);
		free(x);
	}
	cJSON_Delete(index);
	free(txt);
}

/* ---------------------------------------------------------------- GEMV */

static const enum ggml_type all_types[] = {
	GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
	GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
	GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS,
};

/* The GEMV kernel under test, named in each test line: by default the fast
 * one where it serves (cuda/gemv_fast.cu: Q4_K, Q5_K, Q6_K, Q8_0, f32) and
 * the general one elsewhere; no_fast: the general one everywhere. */
static bool no_fast = false;
/* mma: the tensor-core kernel (cuda/gemv_mma.cu: Q4_K, and Q6_K, an
 * option) where it serves */
static bool mma = false;
static const char *kernel_label(void)
{
	return no_fast ? " [general kernel]" : mma ? " [mma kernel]" : "";
}

static bool int_type(enum ggml_type t)
{
	return t != GGML_TYPE_F32 && t != GGML_TYPE_F16 && t != GGML_TYPE_BF16;
}

/* Three tokens through one matrix, input RMS-normalised on the way. */
static void test_gemv_rows(enum ggml_type t, bool q8, int rows, int cols)
{
	const int n = 3;
	size_t nb1;
	uint8_t *w = random_matrix(t, rows, cols, &nb1);
	double *W = ref_dequant(t, w, nb1, rows, cols);
	float *x = malloc(sizeof(float) * n * cols), *nw = malloc(sizeof(float) * cols), *y = malloc(sizeof(float) * n * rows);
	double *ref = malloc(sizeof(double) * n * rows);
	for (int i = 0; i < n * cols; i++)
		x[i] = rndf() * 3;
	for (int i = 0; i < cols; i++)
		nw[i] = 0.5f + rndf() * 0.25f;
	for (int k = 0; k < n; k++) {
		double ss = 0;
		for (int i = 0; i < cols; i++)
			ss += (double)x[k * cols + i] * x[k * cols + i];
		const double r = 1.0 / sqrt(ss / cols + 1e-5);
		for (int j = 0; j < rows; j++) {
			double s = 0;
			for (int i = 0; i < cols; i++)
				s += W[(size_t)j * cols + i] * x[k * cols + i] * r * nw[i];
			ref[k * rows + j] = s;
		}
	}
	struct glm_cuda_gemv_test g = {0};
	g.type = t;
	g.ncols = cols;
	g.nrows = rows;
	g.w = w;
	g.w_bytes = nb1 * rows;
	g.nb1 = nb1;
	g.n_tok = n;
	g.per_tok = g.n_sel = 1;
	g.x = x;
	g.x_count = n * cols;
	g.x_tok = cols;
	g.norm_w = nw;
	g.norm_eps = 1e-5f;
	g.y = y;
	g.y_count = n * rows;
	g.y_tok = rows;
	g.q8 = q8;
	g.no_fast = no_fast;
	g.mma = mma;
	int rc = glm_cuda_test_gemv(&g, err, sizeof err);
	double e = rc ? INFINITY : rel_err(y, ref, n * rows);
	ok(e <= (q8 ? 2e-2 : 1e-5), "gemv %s%s%s: 3 tokens × %d×%d after RMSNorm: rel err %.2e", ggml_type_name(t),
	   q8 ? " int8 activations" : "", kernel_label(), rows, cols, e);
	if (rc)
		diag("%s", err);
	free(w); free(W); free(x); free(nw); free(y); free(ref);
}

static void test_gemv_plain(enum ggml_type t, bool q8)
{
	test_gemv_rows(t, q8, 37, 768);
}

/* The MoE shape: 2 tokens × (3 chosen experts of 6 + a shared one), GLU
 * (silu(gate)·up), then the down projection as a weighted sum added to y. */
static void test_gemv_moe_dims(enum ggml_type t, bool q8, int D, int Fd_all)
{
	const int E = 6, K = 3, n = 2, Fe = 64, P = K + 1;
	const int ids[] = {4, 1, 5, 0, 3, 4};
	const float sc[] = {0.7f, 0.2f, 0.9f, 1.1f, 0.3f, 0.4f};
	size_t nb1, nb1d, tmp;
	uint8_t *g = random_matrix(t, E * Fe, D, &nb1), *u = random_matrix(t, E * Fe, D, &tmp);
	uint8_t *gs = random_matrix(t, Fe, D, &tmp), *us = random_matrix(t, Fe, D, &tmp);
	const bool k32 = ggml_type_traits_get(t)->block_elems == 256;
	/* down rows hold Fe values (K-quants need 256), or Fd_all with zeros past Fe */
	const int Fd = Fd_all ? Fd_all : k32 ? 256 : Fe;
	uint8_t *dn = random_matrix(t, E * D, Fd, &nb1d), *dns = random_matrix(t, D, Fd, &tmp);
	double *G = ref_dequant(t, g, nb1, E * Fe, D), *U = ref_dequant(t, u, nb1, E * Fe, D);
	double *GS = ref_dequant(t, gs, nb1, Fe, D), *US = ref_dequant(t, us, nb1, Fe, D);
	double *DN = ref_dequant(t, dn, nb1d, E * D, Fd), *DNS = ref_dequant(t, dns, nb1d, D, Fd);
	float *x = malloc(sizeof(float) * n * D), *act = malloc(sizeof(float) * n * P * Fd);
	float *y = malloc(sizeof(float) * n * D), *y0 = malloc(sizeof(float) * n * D);
	double *ract = calloc((size_t)n * P * Fd, sizeof(double)), *ry = malloc(sizeof(double) * n * D);
	for (int i = 0; i < n * D; i++) {
		x[i] = rndf();
		y0[i] = y[i] = rndf();
	}
	/* gate/up reference */
	for (int tk = 0; tk < n; tk++)
		for (int j = 0; j < P; j++)
			for (int f = 0; f < Fe; f++) {
				const double *gr = j < K ? G + ((size_t)ids[tk * K + j] * Fe + f) * D : GS + (size_t)f * D;
				const double *ur = j < K ? U + ((size_t)ids[tk * K + j] * Fe + f) * D : US + (size_t)f * D;
				const double a = dotd(gr, x + tk * D, D, 1), b = dotd(ur, x + tk * D, D, 1);
				ract[(tk * P + j) * Fd + f] = a / (1 + exp(-a)) * b;
			}
	struct glm_cuda_gemv_test m = {0};
	m.type = t;
	m.ncols = D;
	m.nrows = Fe;
	m.w = g;
	m.w_up = u;
	m.w_bytes = nb1 * E * Fe;
	m.nb1 = nb1;
	m.nb2 = nb1 * Fe;
	m.w_x = gs;
	m.w_x_up = us;
	m.wx_bytes = nb1 * Fe;
	m.n_tok = n;
	m.per_tok = P;
	m.n_sel = K;
	m.ids = ids;
	m.x = x;
	m.x_count = n * D;
	m.x_tok = D;
	for (int i = 0; i < n * P * Fd; i++)
		act[i] = 0;
	m.y = act;
	m.y_count = n * P * Fd;
	m.y_tok = P * Fd;
	m.y_inst = Fd;
	m.q8 = q8;
	m.no_fast = no_fast;
	m.mma = mma;
	int rc = glm_cuda_test_gemv(&m, err, sizeof err);
	double e = rc ? INFINITY : rel_err(act, ract, n * P * Fd);
	ok(e <= (q8 ? 2e-2 : 1e-5), "gemv %s%s%s: expert gate/up GLU, 2 tokens × (3 chosen + shared) × %d: rel err %.2e",
	   ggml_type_name(t), q8 ? " int8 activations" : "", kernel_label(), D, e);
	if (rc)
		diag("%s", err);
	/* down as a weighted sum, from the reference activations (zero past Fe) */
	for (int i = 0; i < n * P * Fd; i++)
		act[i] = (float)ract[i];
	for (int tk = 0; tk < n; tk++)
		for (int r = 0; r < D; r++) {
			double s = y0[tk * D + r];
			for (int j = 0; j < P; j++) {
				const double *dr = j < K ? DN + ((size_t)ids[tk * K + j] * D + r) * Fd : DNS + (size_t)r * Fd;
				s += (j < K ? sc[tk * K + j] : 1.0) * dotd(dr, act + (tk * P + j) * Fd, Fd, 1);
			}
			ry[tk * D + r] = s;
		}
	struct glm_cuda_gemv_test dd = {0};
	dd.type = t;
	dd.ncols = Fd;
	dd.nrows = D;
	dd.w = dn;
	dd.w_bytes = nb1d * E * D;
	dd.nb1 = nb1d;
	dd.nb2 = nb1d * D;
	dd.w_x = dns;
	dd.wx_bytes = nb1d * D;
	dd.n_tok = n;
	dd.per_tok = P;
	dd.n_sel = K;
	dd.ids = ids;
	dd.x = act;
	dd.x_count = n * P * Fd;
	dd.x_tok = P * Fd;
	dd.x_inst = Fd;
	dd.y = y;
	dd.y_count = n * D;
	dd.y_tok = D;
	dd.sum = dd.accumulate = true;
	dd.scale = sc;
	dd.q8 = q8;
	dd.no_fast = no_fast;
	dd.mma = mma;
	rc = glm_cuda_test_gemv(&dd, err, sizeof err);
	e = rc ? INFINITY : rel_err(y, ry, n * D);
	/* int8 activations: the inputs are silu(a)·b products, heavy-tailed, so
	 * 8-bit blocks of 32 lose more than on the Gaussian inputs above (2.6e-2
	 * seen for Q4_1); the off-by-default int8 path, not the exact one */
	ok(e <= (q8 ? 4e-2 : 1e-5), "gemv %s%s%s: weighted expert down sum (%d wide) added to the stream: rel err %.2e",
	   ggml_type_name(t), q8 ? " int8 activations" : "", kernel_label(), Fd, e);
	if (rc)
		diag("%s", err);
	free(g); free(u); free(gs); free(us); free(dn); free(dns);
	free(G); free(U); free(GS); free(US); free(DN); free(DNS);
	free(x); free(act); free(y); free(y0); free(ract); free(ry);
}

static void test_gemv_moe(enum ggml_type t, bool q8)
{
	test_gemv_moe_dims(t, q8, 512, 0);
}

/* Per-head batched product (q_abs = W_kb[h]^T q_nope[h]): instances = heads,
 * each with its own input slice and slab. */
static void test_gemv_heads(enum ggml_type t, bool q8)
{
	const int H = 5, rows = 64;
	const int cols = ggml_type_traits_get(t)->block_elems == 256 ? 256 : 192, xs = cols + 64;
	size_t nb1;
	uint8_t *w = random_matrix(t, H * rows, cols, &nb1);
	double *W = ref_dequant(t, w, nb1, H * rows, cols);
	float *x = malloc(sizeof(float) * H * xs), *y = malloc(sizeof(float) * H * rows);
	double *ref = malloc(sizeof(double) * H * rows);
	for (int i = 0; i < H * xs; i++)
		x[i] = rndf();
	for (int h = 0; h < H; h++)
		for (int r = 0; r < rows; r++)
			ref[h * rows + r] = dotd(W + ((size_t)h * rows + r) * cols, x + h * xs, cols, 1);
	struct glm_cuda_gemv_test g = {0};
	g.type = t;
	g.ncols = cols;
	g.nrows = rows;
	g.w = w;
	g.w_bytes = nb1 * H * rows;
	g.nb1 = nb1;
	g.nb2 = nb1 * rows;
	g.n_tok = 1;
	g.per_tok = g.n_sel = H;
	g.x = x;
	g.x_count = H * xs;
	g.x_tok = H * xs;
	g.x_inst = xs;
	g.y = y;
	g.y_count = H * rows;
	g.y_tok = H * rows;
	g.y_inst = rows;
	g.q8 = q8;
	g.no_fast = no_fast;
	g.mma = mma;
	int rc = glm_cuda_test_gemv(&g, err, sizeof err);
	double e = rc ? INFINITY : rel_err(y, ref, H * rows);
	ok(e <= (q8 ? 2e-2 : 1e-5), "gemv %s%s%s: per-head slabs with strided inputs: rel err %.2e", ggml_type_name(t),
	   q8 ? " int8 activations" : "", kernel_label(), e);
	if (rc)
		diag("%s", err);
	free(w); free(W); free(x); free(y); free(ref);
}

/* Decode's q_a + kv_a launch: one input, a matrix of 70 rows (instance 0)
 * and an extra one of 45 rows (instance 1, nrows_x), outputs apart. */
static void test_gemv_extra_dims(enum ggml_type t, int r0, int r1, int cols)
{
	const int gap = r0 + 30;
	size_t nb1, nb1x;
	uint8_t *w = random_matrix(t, r0, cols, &nb1), *wx = random_matrix(t, r1, cols, &nb1x);
	double *W = ref_dequant(t, w, nb1, r0, cols), *WX = ref_dequant(t, wx, nb1x, r1, cols);
	float *x = malloc(sizeof(float) * cols), *y = malloc(sizeof(float) * (gap + r1));
	double *ref = malloc(sizeof(double) * (gap + r1));
	for (int i = 0; i < cols; i++)
		x[i] = rndf();
	for (int i = 0; i < gap + r1; i++)
		y[i] = 0.0f, ref[i] = 0.0;
	for (int r = 0; r < r0; r++)
		ref[r] = dotd(W + (size_t)r * cols, x, cols, 1);
	for (int r = 0; r < r1; r++)
		ref[gap + r] = dotd(WX + (size_t)r * cols, x, cols, 1);
	struct glm_cuda_gemv_test g = {0};
	g.type = t;
	g.ncols = cols;
	g.nrows = r0;
	g.nrows_x = r1;
	g.w = w;
	g.w_bytes = nb1 * r0;
	g.nb1 = nb1;
	g.w_x = wx;
	g.wx_bytes = nb1x * r1;
	g.n_tok = 1;
	g.per_tok = 2;
	g.n_sel = 1;
	g.x = x;
	g.x_count = cols;
	g.x_tok = cols;
	g.y = y;
	g.y_count = gap + r1;
	g.y_tok = gap + r1;
	g.y_inst = gap;
	g.no_fast = no_fast;
	g.mma = mma;
	int rc = glm_cuda_test_gemv(&g, err, sizeof err);
	double e = rc ? INFINITY : rel_err(y, ref, gap + r1);
	ok(e <= 1e-5, "gemv %s%s: two matrices of %d and %d rows × %d on one input (q_a + kv_a): rel err %.2e",
	   ggml_type_name(t), kernel_label(), r0, r1, cols, e);
	if (rc)
		diag("%s", err);
	free(w); free(wx); free(W); free(WX); free(x); free(y); free(ref);
}

static void test_gemv_extra(enum ggml_type t)
{
	test_gemv_extra_dims(t, 70, 45, 512);
}

/* the f32-activation shapes, for a kernel other than the default one */
static void test_gemv_shapes(enum ggml_type t)
{
	test_gemv_plain(t, false);
	test_gemv_moe(t, false);
	test_gemv_heads(t, false);
	test_gemv_rows(t, false, 19, 5120);
	test_gemv_extra(t);
}

static void test_gemm(enum ggml_type t)
{
	const int rows = 96, cols = 512, n = 40;
	size_t nb1;
	uint8_t *w = random_matrix(t, rows, cols, &nb1);
	double *W = ref_dequant(t, w, nb1, rows, cols);
	float *x = malloc(sizeof(float) * n * cols), *y = malloc(sizeof(float) * n * rows);
	double *ref = malloc(sizeof(double) * n * rows);
	for (int i = 0; i < n * cols; i++)
		x[i] = rndf();
	for (int k = 0; k < n; k++)
		for (int r = 0; r < rows; r++)
			ref[k * rows + r] = dotd(W + (size_t)r * cols, x + k * cols, cols, 1);
	int rc = glm_cuda_test_gemm(t, w, nb1, cols, rows, x, n, y, err, sizeof err);
	double e = rc ? INFINITY : rel_err(y, ref, n * rows);
	ok(e <= 3e-3, "gemm %s: 40 tokens through f16 tiles: rel err %.2e", ggml_type_name(t), e);
	if (rc)
		diag("%s", err);
	free(w); free(W); free(x); free(y); free(ref);
}

/* ---------------------------------------------------------------- attention */

static const char *kv_names[] = {"f32", "f16", "bf16", "q8_0"};

static void cache_row_f64(int kv, const uint8_t *row, int nvals, double *out)
{
	float *tmp = malloc(sizeof(float) * ((nvals + 31) / 32 * 32));
	for (int i = 0; i < nvals; i++) {
		if (kv == 0)
			out[i] = ((const float *)row)[i];
		else if (kv == 1)
			out[i] = glm_f16_to_f32(((const uint16_t *)row)[i]);
		else if (kv == 2)
			out[i] = glm_bf16_to_f32(((const uint16_t *)row)[i]);
	}
	if (kv == 3) {
		quant_dequantize_row(GGML_TYPE_Q8_0, row, tmp, (nvals + 31) / 32 * 32);
		for (int i = 0; i < nvals; i++)
			out[i] = tmp[i];
	}
	free(tmp);
}

static void rope_d(double *x, int d, double pos, double base)
{
	for (int i = 0; i < d / 2; i++) {
		const double th = pos * pow(base, -2.0 * i / d), c = cos(th), s = sin(th);
		const double a = x[2 * i], b = x[2 * i + 1];
		x[2 * i] = a * c - b * s;
		x[2 * i + 1] = b * c + a * s;
	}
}

/* One attention case: n_rows cached tokens, n query tokens at the end. */
static void attn_case(int G, int R, int Dr, int kv, int n_rows, int n, bool fused, int n_split, bool check_cache)
{
	const int Dk = 192 + Dr, D = R + Dr;
	const int64_t pos = n_rows - n;
	const double base = 1e6, scale = 1.0 / sqrt((double)Dk);
	const size_t rb = glm_cuda_test_kv_row_bytes(kv, R, Dr);
	float *ckv = malloc(sizeof(float) * n_rows * D), *nw = malloc(sizeof(float) * R);
	float *qabs = malloc(sizeof(float) * n * G * R), *q = malloc(sizeof(float) * n * G * Dk);
	float *out = malloc(sizeof(float) * n * G * R);
	uint8_t *cache = malloc(rb * n_rows);
	double *K = malloc(sizeof(double) * n_rows * D), *ref = malloc(sizeof(double) * n * G * R);
	double *sc = malloc(sizeof(double) * n_rows), *Q = malloc(sizeof(double) * D);
	for (int i = 0; i < n_rows * D; i++)
		ckv[i] = rndf() * 2;
	for (int i = 0; i < R; i++)
		nw[i] = 0.5f + 0.5f * (rndf() + 1);
	for (int i = 0; i < n * G * R; i++)
		qabs[i] = rndf() * 2;
	for (int i = 0; i < n * G * Dk; i++)
		q[i] = rndf() * 2;
	int rc = glm_cuda_test_attention(G, R, Dr, Dk, kv, ckv, nw, 1e-6f, n_rows, n, pos, qabs, q, (float)base,
	                                 (float)scale, fused, n_split, out, cache, err, sizeof err);
	if (rc) {
		ok(0, "attention G=%d %s ctx %d n %d: %s", G, kv_names[kv], n_rows, n, err);
		goto out;
	}
	/* the cache as stored (so quantisation is not counted against attention) */
	double cache_err = 0, cache_den = 0;
	for (int t = 0; t < n_rows; t++) {
		cache_row_f64(kv, cache + t * rb, D, K + (size_t)t * D);
		if (check_cache) {
			double ss = 0, want[1024];
			for (int i = 0; i < R; i++)
				ss += (double)ckv[t * D + i] * ckv[t * D + i];
			const double r = 1.0 / sqrt(ss / R + 1e-6);
			for (int i = 0; i < R; i++)
				want[i] = ckv[t * D + i] * r * nw[i];
			for (int i = 0; i < Dr; i++)
				want[R + i] = ckv[t * D + R + i];
			rope_d(want + R, Dr, t, base);
			for (int i = 0; i < D; i++) {
				cache_err += (K[(size_t)t * D + i] - want[i]) * (K[(size_t)t * D + i] - want[i]);
				cache_den += want[i] * want[i];
			}
		}
	}
	if (check_cache) {
		static const double cb[] = {1e-6, 1e-3, 8e-3, 1.5e-2};
		const double e = sqrt(cache_err / cache_den);
		ok(e <= cb[kv], "cache rows %s (kv_a_norm + RoPE, %d rows): rel err %.2e", kv_names[kv], n_rows, e);
	}
	for (int t = 0; t < n; t++)
		for (int h = 0; h < G; h++) {
			const int row = t * G + h;
			for (int i = 0; i < R; i++)
				Q[i] = qabs[row * R + i];
			for (int i = 0; i < Dr; i++)
				Q[R + i] = q[row * Dk + (Dk - Dr) + i];
			rope_d(Q + R, Dr, (double)(pos + t), base);
			const int len = (int)pos + t + 1;
			double mx = -INFINITY, sum = 0;
			for (int k = 0; k < len; k++) {
				double s = 0;
				for (int i = 0; i < D; i++)
					s += Q[i] * K[(size_t)k * D + i];
				sc[k] = s * scale;
				mx = sc[k] > mx ? sc[k] : mx;
			}
			for (int k = 0; k < len; k++)
				sum += (sc[k] = exp(sc[k] - mx));
			for (int i = 0; i < R; i++) {
				double o = 0;
				for (int k = 0; k < len; k++)
					o += sc[k] * K[(size_t)k * D + i];
				ref[row * R + i] = o / sum;
			}
		}
	const double e = rel_err(out, ref, n * G * R), bound = fused ? 3e-3 : 1e-5;
	ok(e <= bound, "attention %s G=%d R=%d %s, %d cached, %d queries, %d splits: rel err %.2e",
	   fused ? "fused" : "plain", G, R, kv_names[kv], n_rows, n, n_split, e);
out:
	free(ckv); free(nw); free(qabs); free(q); free(out); free(cache); free(K); free(ref); free(sc); free(Q);
}

static void test_attention(void)
{
	static const int groups[] = {1, 4, 16, 20};
	static const int ctxs[] = {1, 31, 33, 300, 2100};
	/* the cache writer for every type */
	for (int kv = 0; kv < 4; kv++)
		attn_case(20, 512, 64, kv, 77, 1, false, 1, true);
	/* the plain path, f32 and q8_0 */
	attn_case(20, 512, 64, 0, 300, 1, false, 1, false);
	attn_case(20, 512, 64, 3, 300, 3, false, 1, false);
	for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
		const int G = groups[gi];
		if (!glm_cuda_test_fused_supported(G, 512, 64, 1)) {
			skip(1, "no fused kernel for %d heads on this device", G);
			continue;
		}
		for (int kv = 1; kv < 4; kv++)
			for (size_t ci = 0; ci < sizeof ctxs / sizeof ctxs[0]; ci++) {
				const int ctx = ctxs[ci];
				if (kv != 1 && ctx != 300 && ctx != 2100)
					continue;
				/* decode, split across blocks (not all splits get rows) */
				attn_case(G, 512, 64, kv, ctx, 1, true, ctx > 100 ? 7 : 3, false);
				/* a prefill batch: causal within the batch, one split and several */
				if (ctx >= 33)
					attn_case(G, 512, 64, kv, ctx, 33, true, ctx > 100 ? 2 : 1, false);
			}
	}
	/* the tiny fixture shape (latent 64, rope 16, 4 heads) */
	if (glm_cuda_test_fused_supported(4, 64, 16, 1)) {
		attn_case(4, 64, 16, 1, 45, 1, true, 2, false);
		attn_case(4, 64, 16, 3, 45, 9, true, 1, false);
	}
	attn_case(4, 64, 16, 0, 45, 9, false, 1, true);
}

/* The decode kernel (one query token, G <= 32): the blocks that get rows
 * are derived from the position (whole 64-row tiles, at least one each), so
 * the cases pick contexts around tile and split boundaries for the grid of
 * an H200 (132 blocks) and for small grids (several tiles per block, both
 * buffers in turn); then the general kernel (option attn_decode_legacy) on
 * the same shapes. Each against the CPU reference on the stored cache. */
static void test_attn_decode(void)
{
	static const struct {
		int G, kv, ctx, splits;
	} c[] = {
		{20, 1, 1, 132},     /* one row: one block, the output written by it */
		{20, 1, 64, 132},    /* exactly one tile */
		{20, 1, 65, 132},    /* two blocks, the second with one row */
		{20, 3, 65, 132},
		{20, 2, 65, 132},
		{20, 1, 129, 132},   /* three blocks */
		{20, 3, 150, 1},     /* three tiles, the last partial */
		{20, 1, 1000, 1},    /* one block, 16 tiles, the last partial */
		{20, 3, 1000, 1},
		{20, 2, 1000, 1},
		{20, 1, 5000, 7},    /* 12 tiles per block */
		{20, 3, 5000, 7},
		{20, 1, 8500, 132},  /* two tiles per block, 67 blocks */
		{20, 3, 8500, 132},
		{20, 2, 8500, 132},
		{20, 1, 20000, 400}, /* more blocks with rows (313) than the merge has threads */
		{20, 3, 20000, 400},
		{16, 1, 2100, 132},
		{16, 3, 300, 132},
		{32, 1, 2100, 132},  /* four head tiles */
		{32, 3, 2100, 7},
		{8, 1, 777, 5},
		{1, 3, 777, 132},
	};
	/* with 8 warps per block, then 16 (option attn_decode_warps) */
	for (int nw = 8; nw <= 16; nw += 8) {
		glm_cuda_test_set_attn_decode_warps(nw);
		for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
			if (!glm_cuda_test_fused_supported(c[i].G, 512, 64, 1)) {
				skip(1, "no fused kernel for %d heads on this device", c[i].G);
				continue;
			}
			attn_case(c[i].G, 512, 64, c[i].kv, c[i].ctx, 1, true, c[i].splits, false);
		}
	}
	glm_cuda_test_set_attn_decode_warps(0);
	/* the tiny fixture shape (latent 64: half the warps hold no columns) */
	if (glm_cuda_test_fused_supported(4, 64, 16, 1)) {
		attn_case(4, 64, 16, 1, 300, 1, true, 3, false);
		attn_case(4, 64, 16, 3, 300, 1, true, 132, false);
		attn_case(4, 64, 16, 3, 300, 1, true, 1, false);   /* 5 tiles in one block */
		attn_case(4, 64, 16, 2, 45, 1, true, 1, false);
	}
	/* the general kernel for decode (option), as before step 7 */
	glm_cuda_test_set_attn_decode_legacy(true);
	if (glm_cuda_test_fused_supported(20, 512, 64, 1)) {
		attn_case(20, 512, 64, 1, 2100, 1, true, 264, false);
		attn_case(20, 512, 64, 3, 2100, 1, true, 7, false);
		attn_case(20, 512, 64, 2, 300, 1, true, 264, false);
	}
	if (glm_cuda_test_fused_supported(4, 64, 16, 1))
		attn_case(4, 64, 16, 3, 45, 1, true, 2, false);
	glm_cuda_test_set_attn_decode_legacy(false);
}

/* ---------------------------------------------------------------- routing */

static void test_topk(void)
{
	const int n = 5, E = 64, k = 4;
	float logits[5 * 64], bias[64], w[5 * 4];
	int ids[5 * 4];
	for (int i = 0; i < n * E; i++)
		logits[i] = rndf() * 4;
	for (int i = 0; i < E; i++)
		bias[i] = 9.0f + rndf() * 0.5f;
	int rc = glm_cuda_test_topk(logits, bias, n, E, k, 2, true, 1.8f, ids, w, err, sizeof err);
	int bad = rc != 0;
	double werr = 0;
	for (int t = 0; t < n && !rc; t++) {
		double s[64], sel[64], wsum = 0;
		int chosen[4];
		for (int e = 0; e < E; e++) {
			s[e] = 1.0 / (1.0 + exp(-(double)logits[t * E + e]));
			sel[e] = s[e] + bias[e];
		}
		for (int j = 0; j < k; j++) {
			int bi = -1;
			for (int e = 0; e < E; e++)
				if (sel[e] > -1e30 && (bi < 0 || sel[e] > sel[bi]))
					bi = e;
			chosen[j] = bi;
			wsum += s[bi];
			sel[bi] = -1e31;
		}
		for (int j = 0; j < k; j++) {
			bad |= ids[t * k + j] != chosen[j];
			const double want = s[chosen[j]] / wsum * 1.8;
			werr = fmax(werr, fabs(w[t * k + j] - want) / want);
		}
	}
	ok(!bad && werr <= 1e-6, "router: sigmoid, bias for the choice only, top-4 of 64, normalised ×1.8 (weight err %.1e)",
	   werr);
	if (rc)
		diag("%s", err);
}

int main(void)
{
	if (glm_cuda_device_count() == 0)
		skip_all("no CUDA device");
	const char *only = getenv("GLMCHAT_CUDA_OPS_ONLY");
	const bool gemv = !only || !strcmp(only, "gemv"), attention = !only || !strcmp(only, "attention");
	const bool attn_general = attention || (only && !strcmp(only, "attn-general"));
	const bool attn_decode = attention || (only && !strcmp(only, "attn-decode"));
	if (!gemv && !attention && !attn_general && !attn_decode)
		bail_out("GLMCHAT_CUDA_OPS_ONLY=%s: not attention, attn-general, attn-decode or gemv", only);
	if (gemv)
		test_fixtures();
	for (size_t i = 0; gemv && i < sizeof all_types / sizeof all_types[0]; i++) {
		for (int q8 = 0; q8 < (int_type(all_types[i]) ? 2 : 1); q8++) {
			test_gemv_plain(all_types[i], q8);
			test_gemv_moe(all_types[i], q8);
			test_gemv_heads(all_types[i], q8);
		}
		/* long rows (attn_output's 5120 columns) */
		test_gemv_rows(all_types[i], false, 19, 5120);
		test_gemv_extra(all_types[i]);
		/* GLM-4.7-Flash's expert shapes (2048 in, 1536-wide down rows):
		 * the fast kernel's chunking with several warps per row */
		test_gemv_moe_dims(all_types[i], false, 2048, 1536);
		/* the general kernel where the fast one would serve */
		no_fast = true;
		test_gemv_shapes(all_types[i]);
		no_fast = false;
		/* the tensor-core kernel (Q4_K and Q6_K; others take the fast one) */
		mma = true;
		test_gemv_shapes(all_types[i]);
		test_gemv_moe_dims(all_types[i], false, 2048, 1536);
		/* the mla20 fixtures' shapes: 256 columns, one block per row */
		test_gemv_rows(all_types[i], false, 40, 256);
		test_gemv_extra_dims(all_types[i], 256, 576, 256);
		test_gemv_moe_dims(all_types[i], false, 256, 256);
		mma = false;
		test_gemm(all_types[i]);
	}
	if (attn_general)
		test_attention();
	if (attn_decode)
		test_attn_decode();
	if (gemv)
		test_topk();
	return done_testing();
}
