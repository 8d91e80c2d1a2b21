/* The quant formats against the reference fixtures (tests/fixtures/quant:
 * blocks, their dequantized values and a float64 dot computed by
 * independent code), on the scalar path and again on the AVX2 path; the
 * activation-quantized (q8) path; the Q8_0 quantizer; half and bfloat16
 * conversions; the type table. */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "engine/quant.h"
#include "engine/quant_blocks.h"
#include "tests/testutil.h"

/* How far the q8 path may move a dot from the exact one, relative to
 * ‖w‖·‖x‖: rounding x to 127 levels per block costs about amax/127/√12 per
 * value, i.e. ~1e-4 of ‖w‖‖x‖ on these rows; 1e-3 leaves room. */
#define Q8_COSINE_BOUND 1e-3

static const char *fixture_types[] = {
	"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
	"IQ4_NL", "IQ4_XS",
};
#define N_FIXTURE_TYPES (int)(sizeof fixture_types / sizeof fixture_types[0])

struct fixture {
	enum ggml_type type;
	int64_t n;		/* values */
	size_t nbytes;		/* bytes of the blocks */
	uint8_t *blocks;
	float *want;		/* dequantized values */
	float *x;
	double dot;
};

static void *slurp_fixture(const char *name, const char *ext, size_t want_len)
{
	char rel[128];
	size_t len = 0;

	snprintf(rel, sizeof rel, "quant/%s%s", name, ext);
	void *p = slurp(fixture_path(rel), &len);
	if (!p || len != want_len)
		bail_out("%s: missing or %zu bytes, want %zu", fixture_path(rel), len, want_len);
	return p;
}

static void load_fixture(cJSON *index, const char *name, struct fixture *fx)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(index, name);
	cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "type_id");
	cJSON *be = cJSON_GetObjectItemCaseSensitive(e, "block_elems");
	cJSON *bb = cJSON_GetObjectItemCaseSensitive(e, "block_bytes");
	cJSON *nb = cJSON_GetObjectItemCaseSensitive(e, "n_blocks");
	cJSON *dot = cJSON_GetObjectItemCaseSensitive(e, "dot_f64");

	if (!cJSON_IsNumber(id) || !cJSON_IsNumber(be) || !cJSON_IsNumber(bb) ||
	    !cJSON_IsNumber(nb) || !cJSON_IsNumber(dot))
		bail_out("quant/index.json: entry %s incomplete", name);
	fx->type = (enum ggml_type)id->valueint;
	fx->n = (int64_t)be->valueint * nb->valueint;
	fx->nbytes = (size_t)bb->valueint * (size_t)nb->valueint;
	fx->dot = dot->valuedouble;
	/* an exact-size copy, so a kernel reading past the last block is an
	 * error under the sanitizers */
	uint8_t *raw = slurp_fixture(name, ".blocks", fx->nbytes);
	fx->blocks = malloc(fx->nbytes);
	memcpy(fx->blocks, raw, fx->nbytes);
	free(raw);
	fx->want = slurp_fixture(name, ".f32", (size_t)fx->n * 4);
	fx->x = slurp_fixture(name, ".x.f32", (size_t)fx->n * 4);
}

static double dot64(const float *a, const float *b, int64_t n)
{
	double s = 0;

	for (int64_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static double norm64(const float *a, int64_t n)
{
	return sqrt(dot64(a, a, n));
}

/* The float values a quantized activation stands for. */
static void dequant_xq(enum ggml_type type, const void *xq, float *out, int64_t n)
{
	enum ggml_type vt = quant_vec_dot_type(type);

	if (vt == GGML_TYPE_Q8_K) {
		const struct block_q8_K *b = xq;
		for (int64_t i = 0; i < n; i++)
			out[i] = b[i / QK_K].d * b[i / QK_K].qs[i % QK_K];
	} else {
		quant_dequantize_row(vt, xq, out, n);
	}
}

static bool bsums_ok(const void *xq, int64_t n)
{
	const struct block_q8_K *b = xq;

	for (int64_t i = 0; i < n / QK_K; i++)
		for (int g = 0; g < 16; g++) {
			int s = 0;
			for (int j = 0; j < 16; j++)
				s += b[i].qs[16 * g + j];
			if (s != b[i].bsums[g])
				return false;
		}
	return true;
}

/* Everything one path must get right on one fixture. Returns the q8
 * activation (caller frees) so the paths can be compared. */
static void *check_fixture(const struct fixture *fx, const char *name, const char *path,
			   float *dot_out, float *dotq8_out)
{
	float *got = malloc((size_t)fx->n * 4);
	float *xd = malloc((size_t)fx->n * 4);
	size_t qbytes = quant_q8_bytes(fx->type, fx->n);
	void *xq = malloc(qbytes ? qbytes : 1);

	quant_dequantize_row(fx->type, fx->blocks, got, fx->n);
	ok(!memcmp(got, fx->want, (size_t)fx->n * 4), "%s %s: dequantization bit-exact", path, name);

	float d = quant_dot_f32(fx->type, fx->blocks, fx->x, fx->n);
	if (!ok(rel_err(d, fx->dot) <= 1e-5, "%s %s: dot_f32 within 1e-5 of dot_f64", path, name))
		diag("  got %.9g, want %.9g (rel %.3g)", d, fx->dot, rel_err(d, fx->dot));
	*dot_out = d;

	/* q8 path: against the exact dot of the values it actually multiplies,
	 * then against the float64 reference with the quantization allowance. */
	quant_quantize_x(fx->type, fx->x, xq, fx->n);
	dequant_xq(fx->type, xq, xd, fx->n);
	double exact = dot64(fx->want, xd, fx->n);
	float dq = quant_dot_q8(fx->type, fx->blocks, xq, fx->n);
	if (!ok(rel_err(dq, exact) <= 1e-5, "%s %s: dot_q8 within 1e-5 of dot(dequant w, dequant xq)",
		path, name))
		diag("  got %.9g, want %.9g (rel %.3g)", dq, exact, rel_err(dq, exact));
	double cos_err = fabs(dq - fx->dot) / (norm64(fx->want, fx->n) * norm64(fx->x, fx->n));
	if (!ok(cos_err <= Q8_COSINE_BOUND, "%s %s: dot_q8 within %g·|w||x| of dot_f64 (%.2g, rel %.2g)",
		path, name, Q8_COSINE_BOUND, cos_err, rel_err(dq, fx->dot)))
		diag("  got %.9g, want %.9g", dq, fx->dot);
	if (quant_vec_dot_type(fx->type) == GGML_TYPE_Q8_K)
		ok(bsums_ok(xq, fx->n), "%s %s: Q8_K block sums match the values", path, name);
	*dotq8_out = dq;

	/* Row loops: the fixture as 4 rows against its first quarter of x.
	 * Same kernels, so the same bits as one dot per row. */
	int64_t rows = 4, n = fx->n / rows;
	size_t stride = fx->nbytes / rows;
	float yf[4], yq[4];
	bool same = true;
	quant_matvec_f32(fx->type, fx->blocks, stride, rows, fx->x, n, yf);
	quant_quantize_x(fx->type, fx->x, xq, n);
	quant_matvec_q8(fx->type, fx->blocks, stride, rows, xq, n, yq);
	bool close = true;
	for (int64_t r = 0; r < rows; r++) {
		float wf = quant_dot_f32(fx->type, fx->blocks + r * stride, fx->x, n);
		float wq = quant_dot_q8(fx->type, fx->blocks + r * stride, xq, n);
		same = same && yf[r] == wf && yq[r] == wq;
		/* and against float64, relative to Σ|w·x| (a row may cancel) */
		double exact_r = 0, mag = 0;
		for (int64_t i = 0; i < n; i++) {
			exact_r += (double)fx->want[r * n + i] * fx->x[i];
			mag += fabs((double)fx->want[r * n + i] * fx->x[i]);
		}
		close = close && fabs(yf[r] - exact_r) <= 1e-5 * mag;
	}
	ok(same, "%s %s: matvec rows equal the single dots", path, name);
	ok(close, "%s %s: matvec_f32 rows within 1e-5·Σ|w·x| of float64", path, name);

	/* The batched form: the 4 rows against 6 vectors (overlapping windows
	 * of x), each result with the bits of the single dot. */
	enum { NX = 6 };
	float ym[NX * 4];
	const size_t ldx = (size_t)n / 2;	/* the last window ends at 3.5 n */
	bool mm_same = true;
	quant_matmul_f32(fx->type, fx->blocks, stride, rows, fx->x, ldx, NX, n, ym, 4);
	for (int t = 0; t < NX; t++)
		for (int64_t r = 0; r < rows; r++)
			mm_same = mm_same && ym[t * 4 + r] == quant_dot_f32(fx->type, fx->blocks + r * stride,
									    fx->x + t * ldx, n);
	ok(mm_same, "%s %s: matmul_f32 (6 vectors) equals the single dots", path, name);

	quant_quantize_x(fx->type, fx->x, xq, fx->n);
	free(got);
	free(xd);
	return xq;
}

static void test_fixtures(void)
{
	size_t len;
	char *json = slurp(fixture_path("quant/index.json"), &len);
	cJSON *index = json ? cJSON_Parse(json) : NULL;

	if (!index)
		bail_out("%s: missing or not JSON", fixture_path("quant/index.json"));
	for (int t = 0; t < N_FIXTURE_TYPES; t++) {
		const char *name = fixture_types[t];
		struct fixture fx;
		float d_s, q_s, d_v, q_v;

		load_fixture(index, name, &fx);
		is_str(ggml_type_name(fx.type), name, "%s: type id %d names the type", name, fx.type);
		ok(quant_supported(fx.type), "%s: supported", name);
		is_int(ggml_row_bytes(fx.type, fx.n), fx.nbytes, "%s: ggml_row_bytes of %lld values",
		       name, (long long)fx.n);

		quant_use_simd(false);
		void *xq_s = check_fixture(&fx, name, "scalar", &d_s, &q_s);
		if (quant_use_simd(true)) {
			void *xq_v = check_fixture(&fx, name, "avx2", &d_v, &q_v);
			size_t qb = quant_q8_bytes(fx.type, fx.n);
			ok(!memcmp(xq_s, xq_v, qb), "%s: AVX2 activation quantization bit-identical", name);
			ok(rel_err(d_v, d_s) <= 1e-5, "%s: AVX2 dot_f32 within 1e-5 of scalar", name);
			if (!ok(rel_err(q_v, q_s) <= 1e-5, "%s: AVX2 dot_q8 within 1e-5 of scalar", name))
				diag("  avx2 %.9g scalar %.9g", q_v, q_s);
			free(xq_v);
		} else {
			int per_path = quant_vec_dot_type(fx.type) == GGML_TYPE_Q8_K ? 8 : 7;
			skip(per_path + 3, "no AVX2 on this CPU");
		}
		free(xq_s);
		free(fx.blocks);
		free(fx.want);
		free(fx.x);
	}
	cJSON_Delete(index);
	free(json);
}

/* xorshift: reproducible random bytes */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static float rand_float(void)	/* about N(0,1)-sized, uniform */
{
	return (float)((double)(next_rand() >> 11) / 9007199254740992.0 * 4.0 - 2.0);
}

/* A finite random half around 2^-8..2^0 (scales of real weights). */
static uint16_t rand_scale(void)
{
	return glm_f32_to_f16(rand_float() * 0.05f);
}

/* Random blocks, with every half-precision scale field made finite. */
static void random_blocks(enum ggml_type type, uint8_t *p, int64_t nb)
{
	const size_t bb = ggml_type_traits_get(type)->block_bytes;

	for (size_t i = 0; i < nb * bb; i++)
		p[i] = (uint8_t)next_rand();
	for (int64_t i = 0; i < nb; i++, p += bb) {
		uint16_t *h0 = (uint16_t *)p, s0 = rand_scale(), s1 = rand_scale();
		switch (type) {
		case GGML_TYPE_F16:
		case GGML_TYPE_BF16:
			*h0 = type == GGML_TYPE_F16 ? glm_f32_to_f16(rand_float())
						    : glm_f32_to_bf16(rand_float());
			break;
		case GGML_TYPE_F32: {
			float f = rand_float();
			memcpy(p, &f, 4);
			break;
		}
		case GGML_TYPE_Q4_1:
		case GGML_TYPE_Q5_1:
		case GGML_TYPE_Q4_K:
		case GGML_TYPE_Q5_K:
			memcpy(p, &s0, 2);
			memcpy(p + 2, &s1, 2);
			break;
		case GGML_TYPE_Q2_K:
			memcpy(p + 80, &s0, 2);
			memcpy(p + 82, &s1, 2);
			break;
		case GGML_TYPE_Q3_K:
			memcpy(p + 108, &s0, 2);
			break;
		case GGML_TYPE_Q6_K:
			memcpy(p + 208, &s0, 2);
			break;
		default:	/* Q4_0 Q5_0 Q8_0 IQ4_NL IQ4_XS: d first */
			memcpy(p, &s0, 2);
			break;
		}
	}
}

/* Scalar against AVX2 on random blocks of every type, F32/F16/BF16 too. */
static void test_paths_random(void)
{
	static const enum ggml_type types[] = {
		GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
		GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
		GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS,
	};
	const int64_t n = 8192;
	float *x = malloc(n * 4), *a = malloc(n * 4), *b = malloc(n * 4), *xd = malloc(n * 4);
	uint8_t *w = malloc(n * 4);
	void *xq = malloc(n * 4 + 1024);

	for (int64_t i = 0; i < n; i++)
		x[i] = rand_float();
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		enum ggml_type t = types[k];
		const char *name = ggml_type_name(t);
		int64_t nb = n / ggml_type_traits_get(t)->block_elems;

		random_blocks(t, w, nb);
		quant_use_simd(false);
		quant_dequantize_row(t, w, a, n);
		double exact = dot64(a, x, n);
		float ds = quant_dot_f32(t, w, x, n);
		if (!ok(rel_err(ds, exact) <= 1e-5, "random %s: scalar dot_f32 within 1e-5 of float64", name))
			diag("  got %.9g, want %.9g", ds, exact);
		quant_quantize_x(t, x, xq, n);
		dequant_xq(t, xq, xd, n);
		float qs = quant_dot_q8(t, w, xq, n);
		double qexact = dot64(a, xd, n);
		if (!ok(rel_err(qs, qexact) <= 1e-5, "random %s: scalar dot_q8 within 1e-5 of float64", name))
			diag("  got %.9g, want %.9g", qs, qexact);
		if (!quant_use_simd(true)) {
			skip(3, "no AVX2 on this CPU");
			continue;
		}
		quant_dequantize_row(t, w, b, n);
		ok(!memcmp(a, b, n * 4), "random %s: AVX2 dequantization bit-exact with scalar", name);
		float dv = quant_dot_f32(t, w, x, n);
		if (!ok(rel_err(dv, exact) <= 1e-5, "random %s: AVX2 dot_f32 within 1e-5 of float64", name))
			diag("  got %.9g, want %.9g", dv, exact);
		float qv = quant_dot_q8(t, w, xq, n);
		if (!ok(rel_err(qv, qexact) <= 1e-5, "random %s: AVX2 dot_q8 within 1e-5 of float64", name))
			diag("  got %.9g, want %.9g", qv, qexact);
	}
	free(x);
	free(a);
	free(b);
	free(xd);
	free(w);
	free(xq);
}

/* Q8_0: each value within half a step of the original, plus what storing
 * d as a half costs: |q| ≤ 127 times d's rounding error, which is 2^-11
 * relative for normal halves and 2^-25 absolute for subnormal ones. */
static void test_q8_0_quantizer(void)
{
	const int64_t n = 4096;
	float *x = malloc(n * 4), *y = malloc(n * 4);
	struct block_q8_0 *q = malloc(n / 32 * sizeof *q), *q2 = malloc(n / 32 * sizeof *q2);

	for (int64_t i = 0; i < n; i++)	/* blocks of very different sizes */
		x[i] = rand_float() * ldexpf(1.0f, (int)(i / 32 % 24) - 12);
	for (int j = 0; j < 32; j++)	/* one all-zero block */
		x[64 + j] = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *path = pass ? "avx2" : "scalar";
		if (!quant_use_simd(pass)) {
			if (pass) {
				skip(4, "no AVX2 on this CPU");
				break;
			}
		}
		quant_quantize_row_q8_0(x, pass ? q2 : q, n);
		quant_dequantize_row(GGML_TYPE_Q8_0, pass ? q2 : q, y, n);
		bool within = true, amax127 = true, zero = true;
		for (int64_t b = 0; b < n / 32; b++) {
			const struct block_q8_0 *blk = (pass ? q2 : q) + b;
			float amax = 0, d;
			int qmax = 0;
			for (int j = 0; j < 32; j++) {
				amax = fmaxf(amax, fabsf(x[b * 32 + j]));
				qmax = abs(blk->qs[j]) > qmax ? abs(blk->qs[j]) : qmax;
			}
			d = amax / 127;
			for (int j = 0; j < 32; j++)
				if (fabsf(y[b * 32 + j] - x[b * 32 + j]) >
				    (d * 0.5f + 127 * fmaxf(d * 0x1p-11f, 0x1p-25f)) * 1.0001f)
					within = false;
			if (amax > 0 && qmax != 127)
				amax127 = false;
			if (b == 2 && (blk->d != 0 || qmax != 0))
				zero = false;
		}
		ok(within, "%s Q8_0 quantizer: round trip within d/2 + f16(d) error", path);
		ok(amax127, "%s Q8_0 quantizer: the largest value of each block maps to ±127", path);
		ok(zero, "%s Q8_0 quantizer: an all-zero block gives d = 0 and zeros", path);
		if (pass)
			ok(!memcmp(q, q2, n / 32 * sizeof *q), "AVX2 Q8_0 quantizer bit-identical to scalar");
	}
	free(x);
	free(y);
	free(q);
	free(q2);
}

/* Ties round half away from zero, as ggml's roundf: with amax = 127 the
 * step d is exactly 1 and x·(1/d) is exact. */
static void test_q8_rounding(void)
{
	static const float x[32] = { 127, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 63.5f, -126.5f, 0.49999997f };
	static const int8_t want[32] = { 127, 1, -1, 2, 3, -3, 64, -127, 0 };

	for (int pass = 0; pass < 2; pass++) {
		struct block_q8_0 b;
		if (quant_use_simd(pass) != (bool)pass) {
			skip(2, "no AVX2 on this CPU");
			continue;
		}
		quant_quantize_row_q8_0(x, &b, 32);
		ok(!memcmp(b.qs, want, 32) && b.d == glm_f32_to_f16(1.0f),
		   "%s Q8_0: ties round away from zero, d = amax/127", pass ? "avx2" : "scalar");
		/* Q8_K (the K types' activation) rounds the same way */
		float xk[256] = {0};
		struct block_q8_K k;
		memcpy(xk, x, sizeof x);
		quant_quantize_x(GGML_TYPE_Q4_K, xk, &k, 256);
		ok(!memcmp(k.qs, want, 32) && k.d == 1.0f && k.bsums[0] == 127 + 1 - 1 + 2 + 3 - 3 + 64 - 127,
		   "%s Q8_K: ties round away from zero, float d, block sums", pass ? "avx2" : "scalar");
	}
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* The value of a half computed from its fields in double: independent of
 * glm_f16_to_f32. */
static double half_value(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
	return h & 0x8000 ? -v : v;
}

static void test_f16(void)
{
	bool widen = true, round_trip = true, nan_ok = true;

	for (uint32_t h = 0; h < 65536; h++) {
		float f = glm_f16_to_f32((uint16_t)h);
		bool is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
		if (is_nan) {
			nan_ok = nan_ok && isnan(f) && isnan(glm_f16_to_f32(glm_f32_to_f16(f))) &&
				 (signbit(f) != 0) == ((h & 0x8000) != 0);
			continue;
		}
		if ((h & 0x7C00) == 0x7C00)
			widen = widen && isinf(f) && (f < 0) == ((h & 0x8000) != 0);
		else
			widen = widen && (double)f == half_value((uint16_t)h) &&
				(signbit(f) != 0) == ((h & 0x8000) != 0);
		round_trip = round_trip && glm_f32_to_f16(f) == h;
	}
	ok(widen, "f16 -> f32 exact for all 63488 non-NaN halves (and ±0, ±inf)");
	ok(round_trip, "f16 -> f32 -> f16 is the identity for every non-NaN half");
	ok(nan_ok, "f16 NaNs stay NaN with their sign, both ways");

	/* Every midpoint between neighbouring finite halves (exact in float)
	 * ties to even; one float ulp either side goes to the nearer half. */
	bool ties = true, near = true;
	for (uint32_t h = 0; h < 0x7BFF; h++) {
		float mid = (float)((half_value((uint16_t)h) + half_value((uint16_t)(h + 1))) / 2);
		uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
		ties = ties && glm_f32_to_f16(mid) == even && glm_f32_to_f16(-mid) == (even | 0x8000);
		near = near && glm_f32_to_f16(nextafterf(mid, 0)) == h &&
		       glm_f32_to_f16(nextafterf(mid, INFINITY)) == h + 1;
	}
	ok(ties, "f32 -> f16: every midpoint rounds to even");
	ok(near, "f32 -> f16: one ulp off a midpoint rounds to the nearer half");
	is_int(glm_f32_to_f16(65504.0f), 0x7BFF, "65504 is the largest half");
	is_int(glm_f32_to_f16(nextafterf(65520.0f, 0)), 0x7BFF, "just below 65520 rounds down");
	is_int(glm_f32_to_f16(65520.0f), 0x7C00, "65520 rounds to infinity");
	is_int(glm_f32_to_f16(1e30f), 0x7C00, "huge overflows to infinity");
	is_int(glm_f32_to_f16(-INFINITY), 0xFC00, "-inf");
	is_int(glm_f32_to_f16(0x1p-25f), 0x0000, "2^-25 (half the smallest subnormal) ties to zero");
	is_int(glm_f32_to_f16(nextafterf(0x1p-25f, 1)), 0x0001, "just above 2^-25 rounds up");
	is_int(glm_f32_to_f16(1e-30f), 0x0000, "tiny rounds to zero");
	is_int(glm_f32_to_f16(-0.0f), 0x8000, "-0 keeps its sign");
	is_int(glm_f32_to_f16(0x1p-14f - 0x1p-25f), 0x0400, "largest subnormal + half ulp carries to normal");
	ok((glm_f32_to_f16(NAN) & 0x7C00) == 0x7C00 && (glm_f32_to_f16(NAN) & 0x3FF),
	   "f32 NaN -> f16 NaN");
	is_int(glm_f32_to_f16(1.0f + 0x1p-11f), 0x3C00, "1 + 2^-11 ties to even (1.0)");
	is_int(glm_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02, "1 + 3·2^-11 ties to even (0x3C02)");
}

static void test_bf16(void)
{
	bool round_trip = true, widen = true;

	for (uint32_t h = 0; h < 65536; h++) {
		float f = glm_bf16_to_f32((uint16_t)h);
		widen = widen && f2u(f) == h << 16;
		if ((h & 0x7F80) == 0x7F80 && (h & 0x7F))
			round_trip = round_trip && isnan(glm_bf16_to_f32(glm_f32_to_bf16(f)));
		else
			round_trip = round_trip && glm_f32_to_bf16(f) == h;
	}
	ok(widen, "bf16 -> f32 is the top half of the float for all 65536");
	ok(round_trip, "bf16 -> f32 -> bf16 is the identity (NaNs stay NaN)");

	bool ties = true, near = true;
	for (uint32_t h = 0; h < 0x7F7F; h++) {
		uint32_t mid = (h << 16) | 0x8000;	/* exactly between h and h+1 */
		uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
		ties = ties && glm_f32_to_bf16(u2f(mid)) == even;
		near = near && glm_f32_to_bf16(u2f(mid - 1)) == h && glm_f32_to_bf16(u2f(mid + 1)) == h + 1;
	}
	ok(ties, "f32 -> bf16: every midpoint rounds to even");
	ok(near, "f32 -> bf16: one ulp off a midpoint rounds to the nearer value");
	is_int(glm_f32_to_bf16(u2f(0x7F7F8000)), 0x7F80, "overflow past the largest bf16 gives inf");
	ok(isnan(glm_bf16_to_f32(glm_f32_to_bf16(u2f(0x7F800001)))), "a NaN with only low payload bits stays NaN");
	is_int(glm_f32_to_bf16(u2f(0x00008000)), 0x0000, "subnormal midpoint ties to even zero (no flush)");
	is_int(glm_f32_to_bf16(u2f(0x00018000)), 0x0002, "subnormals round, not flush");
}

static void test_types(void)
{
	static const struct { enum ggml_type t; size_t bytes_256; } sizes[] = {
		{GGML_TYPE_F32, 1024}, {GGML_TYPE_F16, 512}, {GGML_TYPE_BF16, 512},
		{GGML_TYPE_Q8_K, 292},
	};
	static const uint32_t unsupported[] = {
		GGML_TYPE_Q8_1, GGML_TYPE_Q8_K, GGML_TYPE_IQ2_XXS, GGML_TYPE_IQ3_S, GGML_TYPE_IQ1_M,
		GGML_TYPE_I8, GGML_TYPE_F64, GGML_TYPE_TQ2_0, GGML_TYPE_MXFP4, 4, 5, 31, GGML_TYPE_COUNT, 1000,
	};
	bool rejected = true;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		is_int(ggml_row_bytes(sizes[i].t, 256), sizes[i].bytes_256, "ggml_row_bytes(%s, 256)",
		       ggml_type_name(sizes[i].t));
	is_int(ggml_row_bytes(GGML_TYPE_Q4_K, 255), 0, "ggml_row_bytes of a partial block is 0");
	is_int(ggml_row_bytes(GGML_TYPE_Q8_0, 0), 0, "ggml_row_bytes of no values is 0");
	for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
		rejected = rejected && !quant_supported((enum ggml_type)unsupported[i]);
	ok(rejected, "quant_supported rejects Q8_1, Q8_K, IQ2/IQ3/IQ1, ints, F64, TQ, MXFP4, unknown ids");

	/* Bad calls give NaN, not a crash or a plausible number. */
	uint8_t blk[144] = {0};
	float x[256] = {0}, y[2] = {0, 0};
	ok(isnan(quant_dot_f32(GGML_TYPE_IQ2_XXS, blk, x, 256)), "dot of an unsupported type is NaN");
	ok(isnan(quant_dot_f32(GGML_TYPE_Q4_K, blk, x, 100)), "dot over a partial block is NaN");
	ok(isnan(quant_dot_q8(GGML_TYPE_MXFP4, blk, x, 32)), "dot_q8 of an unsupported type is NaN");
	quant_dequantize_row(GGML_TYPE_Q4_K, blk, y, 2);
	ok(isnan(y[0]) && isnan(y[1]), "dequantizing a partial block writes NaN");
	is_int(quant_q8_bytes(GGML_TYPE_Q8_1, 32), 0, "no activation buffer for an unsupported type");
	is_int(quant_vec_dot_type(GGML_TYPE_Q4_K), GGML_TYPE_Q8_K, "Q4_K takes Q8_K activations");
	is_int(quant_vec_dot_type(GGML_TYPE_IQ4_XS), GGML_TYPE_Q8_K, "IQ4_XS takes Q8_K activations");
	is_int(quant_vec_dot_type(GGML_TYPE_IQ4_NL), GGML_TYPE_Q8_0, "IQ4_NL takes Q8_0 activations");
	is_int(quant_vec_dot_type(GGML_TYPE_BF16), GGML_TYPE_F32, "BF16 takes float activations");
	is_int(quant_q8_bytes(GGML_TYPE_Q6_K, 512), 2 * 292, "Q8_K buffer of 512 values");
}

int main(void)
{
	diag("SIMD path at start: %s", quant_simd_path());
	test_fixtures();
	test_paths_random();
	test_q8_0_quantizer();
	test_q8_rounding();
	test_f16();
	test_bf16();
	test_types();
	return done_testing();
}
