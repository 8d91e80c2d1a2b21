// Attention over the MLA latent cache. All G query heads of a token read
// the same cache row (576 values: 512 latent, which is also V, and 64
// roped key), so the cache is MQA with a group of G (20 for GLM-4.7-Flash).
//
// The fused path is one flash-attention kernel family: a block takes QT
// query tokens × G heads as the rows of its Q tile (M = QT·G, padded to
// 16) and walks a range of cache rows in tiles of 32. Each tile is loaded
// once (q8_0 and bf16 turned into f16 in the loop) and serves every row:
// scores by tensor-core MMA (m16n8k16, f16 in, f32 accumulate), an online
// softmax in f32, then P·V by MMA into accumulators that stay in
// registers. Long contexts are split across blocks (n_split per query
// block); a second kernel merges the splits. G is a template parameter so
// every head mapping is resolved at compile time; 20 is instantiated.
//
// The plain path (--fa off, and the f32 cache) is the textbook one in f32:
// a score matrix in global memory, a softmax, a weighted sum.
#include "cuda/ops.cuh"
#include "cuda/kv_dev.cuh"
#include <math.h>

#define FA_TT 32          // cache rows per tile
#define FA_PAD 8          // halves of padding per smem row (bank spread)
#define FA_MAX_R 512
#define FA_MIN_CHUNK 64   // cache rows a split takes at least (128 left half the SMs idle at 8k)

// floats of work buffer the f16 Q rows take (rounded to 16 bytes)
static __host__ __device__ __forceinline__ size_t fa_q_floats(int n, int G, int D)
{
	return ((size_t)n * G * D / 2 + 3) / 4 * 4;
}

static __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], const uint32_t b[2])
{
#if __CUDA_ARCH__ >= 800
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
	             "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
	// Turing: the same product as two k=8 halves
	asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
	             "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(b[0]));
	asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
	             "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#endif
}

static __device__ __forceinline__ uint32_t lds32(const __half *p) { return *(const uint32_t *)p; }
static __device__ __forceinline__ uint32_t pack2(__half lo, __half hi)
{
	return (uint32_t)__half_as_ushort(lo) | ((uint32_t)__half_as_ushort(hi) << 16);
}

// Raw bytes of 8 cache values, fetched a tile ahead and converted only
// when stored to shared memory, so the global loads overlap the MMAs.
template <int KT> static __device__ __forceinline__ uint4 kv_raw8(const uint8_t *row, int c)
{
	if (KT == KV_Q8_0) {
		const uint8_t *b = row + 34 * (c >> 2);
		const uint16_t *q = (const uint16_t *)(b + 2 + 8 * (c & 3));
		uint4 r;
		r.x = (uint32_t)q[0] | ((uint32_t)q[1] << 16);
		r.y = (uint32_t)q[2] | ((uint32_t)q[3] << 16);
		r.z = *(const uint16_t *)b;
		r.w = 0;
		return r;
	}
	return *(const uint4 *)(row + 16 * c);
}
// q8_0 rows read by whole 34-byte blocks (glm_cuda_options.q8_wide): a
// block at a 2-byte aligned address lies inside the 3 aligned 16-byte words
// that cover it (an aligned word holding a valid byte never leaves the
// cache buffer's last 256-byte granule), so a thread issues 3 16-byte loads
// per 32 values instead of 5 2-byte loads per 8, then shifts the bytes into
// place in registers. Conversion as kv_cvt8 (same rounding).
struct q8blk {
	uint4 w[3];
	int off;                   // the block's byte offset inside w
};
static __device__ __forceinline__ void q8blk_load(const uint8_t *p, q8blk *b)
{
	const uint4 *g = (const uint4 *)((uintptr_t)p & ~(uintptr_t)15);
	b->off = (int)((uintptr_t)p & 15);
	b->w[0] = g[0];
	b->w[1] = g[1];
	b->w[2] = g[2];
}
static __device__ __forceinline__ void q8blk_zero(q8blk *b)
{
	b->w[0] = b->w[1] = b->w[2] = make_uint4(0, 0, 0, 0);
	b->off = 0;
}
// word i of the 12, i a compile-time constant after unrolling (12: zero)
static __device__ __forceinline__ uint32_t q8w(const q8blk &b, int i)
{
	const uint4 &v = b.w[i >> 2 < 3 ? i >> 2 : 2];
	const uint32_t x = (i & 3) == 0 ? v.x : (i & 3) == 1 ? v.y : (i & 3) == 2 ? v.z : v.w;
	return i < 12 ? x : 0u;
}
// chunk c (values 8c .. 8c+7) of the block as four half2
static __device__ __forceinline__ uint4 q8blk_chunk(float d, const uint32_t *dw, int c)
{
	uint4 out;
	__half2 *o = (__half2 *)&out;
	const uint32_t w[2] = {dw[2 * c], dw[2 * c + 1]};
#pragma unroll
	for (int i = 0; i < 4; i++) {
		const uint32_t v = w[i >> 1] >> (16 * (i & 1));
		o[i] = __floats2half2_rn(d * (float)(int8_t)(v & 0xFF), d * (float)(int8_t)((v >> 8) & 0xFF));
	}
	return out;
}
// the scale and the 8 data words (32 int8) of a loaded block
static __device__ __forceinline__ float q8blk_unpack(const q8blk &b, uint32_t *dw)
{
	const int qs = b.off >> 2;                       // scale word (off is even: no straddle)
	uint32_t sw = q8w(b, 0);
	sw = qs == 1 ? q8w(b, 1) : sw;
	sw = qs == 2 ? q8w(b, 2) : sw;
	sw = qs == 3 ? q8w(b, 3) : sw;
	const float d = h2f((uint16_t)(sw >> (8 * (b.off & 3))));
	const int s2 = b.off + 2, q = s2 >> 2, r = 8 * (s2 & 3);   // data start: word q, byte shift r (0 or 16)
#pragma unroll
	for (int k = 0; k < 8; k++) {
		uint32_t lo = q8w(b, k), hi = q8w(b, k + 1);
#pragma unroll
		for (int j = 1; j <= 4; j++)
			if (q == j) {
				lo = q8w(b, k + j);
				hi = q8w(b, k + j + 1);
			}
		dw[k] = __funnelshift_r(lo, hi, r);
	}
	return d;
}

template <int KT> static __device__ __forceinline__ uint4 kv_cvt8(uint4 r)
{
	if (KT == KV_F16)
		return r;
	uint4 out;
	__half2 *o = (__half2 *)&out;
	if (KT == KV_BF16) {
		const uint32_t w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
		for (int i = 0; i < 4; i++)
			o[i] = __floats2half2_rn(bf2f(w[i] & 0xFFFF), bf2f(w[i] >> 16));
		return out;
	}
	const float d = h2f((uint16_t)r.z);
	const uint32_t w[2] = {r.x, r.y};
#pragma unroll
	for (int i = 0; i < 4; i++) {
		const uint32_t v = w[i >> 1] >> (16 * (i & 1));
		o[i] = __floats2half2_rn(d * (float)(int8_t)(v & 0xFF), d * (float)(int8_t)((v >> 8) & 0xFF));
	}
	return out;
}

template <int G, int QT> struct fa_shape {
	enum {
		M = G * QT,
		MT = (M + 15) / 16,
		MP = MT * 16,
		NW = MT >= 4 ? 16 : 8,               // warps
		NT = NW * WARP,
		CHUNKS_MAX = FA_TT * (FA_MAX_R + 64) / 8 / (NW * WARP) + 1,
	};
};

static size_t fa_smem_bytes(int MP, int D)
{
	const int DS = D + FA_PAD;
	return (size_t)MP * DS * 2 + (size_t)FA_TT * DS * 2    // Q, K tile (f16)
	     + (size_t)MP * FA_TT * 4                             // scores
	     + (size_t)MP * (FA_TT + FA_PAD) * 2                  // P (f16)
	     + (size_t)MP * 3 * 4;                                // m, l, alpha
}

template <int NW>
static __device__ __forceinline__ void fa_merge_row(const float *ml, const float *po, int G, int QT, int M, int R,
                                                    int n_split, float *out, int row, float *w, float *acc_s,
                                                    float *red);

// glm_cuda_options.attn_merge_last: each split block, once its partials are
// written, counts itself in a.merge_cnt[qb]; the last of the query block's
// n_split blocks merges them (instead of a separate reduce launch) and sets
// the counter back to 0, so that the next launch or graph replay finds it
// zeroed. sm: the kernel's shared memory, free again by then. Not inlined:
// its registers then do not add to the main loop's (inlined, some
// instantiations spilled).
template <int G, int QT, int NW>
static __device__ __noinline__ void fa_merge_last(const attn_args &a, int nq_blocks, float *sm)
{
	// everything from the kernel's parameters again: nothing stays live
	// in registers across the main loop for this
	const int M = G * QT, n_split = gridDim.x, qb = blockIdx.y, q0 = qb * QT;
	const int rows = min(QT, a.n - q0) * G;
	const float *ml = a.work + fa_q_floats(a.n, G, a.R + a.Dr);
	const float *po = ml + ((size_t)nq_blocks * n_split * M * 2 + 3) / 4 * 4;
	// all in the dynamic shared memory (no static shared: the default
	// kernel's footprint stays as it was): [n_split] w, [NW][R] acc, [NW] red, last
	float *w = sm, *acc = sm + (n_split + 3) / 4 * 4, *red = acc + NW * a.R;
	unsigned *last = (unsigned *)(red + NW);
	__threadfence();          // this block's partials visible before it is counted
	__syncthreads();
	if (threadIdx.x == 0) {
		*last = atomicAdd(a.merge_cnt + qb, 1u) == (unsigned)n_split - 1;
		if (*last)
			a.merge_cnt[qb] = 0;
	}
	__syncthreads();
	if (!*last)
		return;
	__threadfence();
	for (int r = 0; r < rows; r++) {
		fa_merge_row<NW>(ml, po, a.G, QT, M, a.R, n_split, a.out, q0 * a.G + r, w, acc, red);
		__syncthreads();
	}
}

template <int G, int QT, int KT, bool ML>
static __global__ void __launch_bounds__(fa_shape<G, QT>::NT)
fa_kernel(attn_args a, kv_layout L, int nq_blocks)
{
	pdl_begin();
	typedef fa_shape<G, QT> S;
	extern __shared__ __align__(16) unsigned char smem[];
	const int R = a.R, Dr = a.Dr, D = R + Dr, DS = D + FA_PAD, PS = FA_TT + FA_PAD;
	__half *Qs = (__half *)smem;
	__half *Ks = Qs + S::MP * DS;
	float *Ss = (float *)(Ks + FA_TT * DS);
	__half *Ps = (__half *)(Ss + S::MP * FA_TT);
	float *m_s = (float *)(Ps + S::MP * PS);
	float *l_s = m_s + S::MP, *al_s = l_s + S::MP;

	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int g = lane >> 2, c = lane & 3;
	const int qb = blockIdx.y, sp = blockIdx.x, n_split = gridDim.x;
	const int q0 = qb * QT;
	const int64_t pos0 = a.pos[0];
	const int q_last = min(q0 + QT, a.n) - 1;
	const int64_t kv_len = pos0 + q_last + 1;
	// at least FA_MIN_CHUNK rows per split: short contexts use few blocks
	// (the rest exit at once) and the partials to merge stay few
	int64_t chunk = (ceil_div(kv_len, n_split) + FA_TT - 1) / FA_TT * FA_TT;
	if (chunk < FA_MIN_CHUNK)
		chunk = FA_MIN_CHUNK;
	const int64_t kv0 = (int64_t)sp * chunk, kv1 = min(kv_len, kv0 + chunk);
	const int rows = min(QT, a.n - q0) * G;

	const __half *Qh = (const __half *)a.work;
	float *part_ml = a.work + fa_q_floats(a.n, G, D);
	float *part_o = part_ml + ((size_t)nq_blocks * n_split * S::M * 2 + 3) / 4 * 4;
	const size_t pidx = ((size_t)qb * n_split + sp) * S::M;
	if (kv0 >= kv1) {
		for (int r = threadIdx.x; r < S::M; r += blockDim.x) {
			part_ml[(pidx + r) * 2] = -INFINITY;
			part_ml[(pidx + r) * 2 + 1] = 0.0f;
		}
		if (ML)
			fa_merge_last<G, QT, S::NW>(a, nq_blocks, (float *)smem);
		return;
	}

	// Q tile (prepared once by q_prep_kernel: scaled, roped, f16)
	for (int i = threadIdx.x; i < S::MP * (D / 8); i += blockDim.x) {
		const int r = i / (D / 8), c8 = i % (D / 8);
		uint4 v = make_uint4(0, 0, 0, 0);
		if (r < rows)
			v = *(const uint4 *)(Qh + ((int64_t)q0 * G + r) * D + 8 * c8);
		*(uint4 *)(Qs + r * DS + 8 * c8) = v;
	}
	for (int r = threadIdx.x; r < S::MP; r += blockDim.x) {
		m_s[r] = -INFINITY;
		l_s[r] = 0.0f;
	}

	// cache tile loader: 8 values (16 bytes of f16) per chunk
	const int cpr = D / 8, nchunk = FA_TT * cpr;
	// q8_0 by whole blocks (a.q8_wide): a thread takes blocks i, i + NT, ...
	// Only in the 8-warp shapes (decode, small batches): the 16-warp ones are
	// capped at 128 registers and would spill.
	constexpr bool Q8W = KT == KV_Q8_0 && S::NW == 8;
	constexpr int QB_MAX = Q8W ? (FA_TT * (FA_MAX_R + 64) / 32 + S::NT - 1) / S::NT : 1;
	const bool wide = Q8W && a.q8_wide;
	const int bpr = (D + 31) / 32, nqb = FA_TT * bpr;
	uint4 raw[S::CHUNKS_MAX];
	q8blk qraw[QB_MAX];
	auto fetch = [&](int64_t t0) {
		if (wide) {
#pragma unroll
			for (int k = 0; k < QB_MAX; k++) {
				const int i = threadIdx.x + k * S::NT;
				if (i < nqb) {
					const int tok = i / bpr, qb = i % bpr;
					if (t0 + tok < kv1)
						q8blk_load(a.cache + (t0 + tok) * L.row_bytes + 34 * qb, &qraw[k]);
					else
						q8blk_zero(&qraw[k]);
				}
			}
			return;
		}
#pragma unroll
		for (int k = 0; k < S::CHUNKS_MAX; k++) {
			const int i = threadIdx.x + k * S::NT;
			if (i < nchunk) {
				const int tok = i / cpr, cc = i % cpr;
				raw[k] = t0 + tok < kv1 ? kv_raw8<KT>(a.cache + (t0 + tok) * L.row_bytes, cc) : make_uint4(0, 0, 0, 0);
			}
		}
	};
	auto store = [&]() {
		if (wide) {
#pragma unroll
			for (int k = 0; k < QB_MAX; k++) {
				const int i = threadIdx.x + k * S::NT;
				if (i < nqb) {
					const int tok = i / bpr, qb = i % bpr;
					uint32_t dw[8];
					const float d = q8blk_unpack(qraw[k], dw);
#pragma unroll
					for (int c = 0; c < 4; c++)
						if (4 * qb + c < cpr)
							*(uint4 *)(Ks + tok * DS + 32 * qb + 8 * c) = q8blk_chunk(d, dw, c);
				}
			}
			return;
		}
#pragma unroll
		for (int k = 0; k < S::CHUNKS_MAX; k++) {
			const int i = threadIdx.x + k * S::NT;
			if (i < nchunk) {
				const int tok = i / cpr, cc = i % cpr;
				*(uint4 *)(Ks + tok * DS + 8 * cc) = kv_cvt8<KT>(raw[k]);
			}
		}
	};

	// output accumulators: this warp's column slice, all row tiles
	const int CW = R / S::NW, NTW = CW / 8;
	const int col0 = warp * CW;
	float acc[S::MT][FA_MAX_R / 8 / S::NW][4];
#pragma unroll
	for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
		for (int j = 0; j < FA_MAX_R / 8 / S::NW; j++)
			acc[mt][j][0] = acc[mt][j][1] = acc[mt][j][2] = acc[mt][j][3] = 0.0f;

	fetch(kv0);
	store();
	__syncthreads();
	for (int64_t t0 = kv0; t0 < kv1; t0 += FA_TT) {
		if (t0 + FA_TT < kv1)
			fetch(t0 + FA_TT);

		// scores: one 16×8 tile of S per warp
		if (warp < 4 * S::MT) {
			const int mt = warp / 4, nt = warp % 4;
			// two accumulators: half the dependent MMA chain
			float sc[4] = {0.0f, 0.0f, 0.0f, 0.0f}, sc2[4] = {0.0f, 0.0f, 0.0f, 0.0f};
			const __half *qa = Qs + (mt * 16 + g) * DS + 2 * c;
			const __half *kb = Ks + (nt * 8 + g) * DS + 2 * c;
			for (int k0 = 0; k0 < D; k0 += 32) {
				uint32_t af[4] = {lds32(qa + k0), lds32(qa + 8 * DS + k0), lds32(qa + k0 + 8),
				                  lds32(qa + 8 * DS + k0 + 8)};
				uint32_t bf[2] = {lds32(kb + k0), lds32(kb + k0 + 8)};
				mma16816(sc, af, bf);
				if (k0 + 16 < D) {
					uint32_t af2[4] = {lds32(qa + k0 + 16), lds32(qa + 8 * DS + k0 + 16), lds32(qa + k0 + 24),
					                   lds32(qa + 8 * DS + k0 + 24)};
					uint32_t bf2[2] = {lds32(kb + k0 + 16), lds32(kb + k0 + 24)};
					mma16816(sc2, af2, bf2);
				}
			}
#pragma unroll
			for (int i = 0; i < 4; i++)
				sc[i] += sc2[i];
			float *so = Ss + (mt * 16 + g) * FA_TT + nt * 8 + 2 * c;
			so[0] = sc[0];
			so[1] = sc[1];
			so[8 * FA_TT] = sc[2];
			so[8 * FA_TT + 1] = sc[3];
		}
		__syncthreads();

		// online softmax, one warp per row, lane = cache row of the tile
		for (int r = warp; r < S::MP; r += S::NW) {
			const int64_t kv = t0 + lane;
			const int64_t limit = pos0 + q0 + r / G;       // causal: rows <= own position
			const bool valid = r < rows && kv < kv1 && kv <= limit;
			const float v = valid ? Ss[r * FA_TT + lane] : -INFINITY;
			const float mo = m_s[r], mn = fmaxf(mo, warp_max(v));
			const float p = mn == -INFINITY ? 0.0f : __expf(v - mn);
			const float al = mn == -INFINITY ? 1.0f : __expf(mo - mn);
			const float ps = warp_sum(p);
			Ps[r * PS + lane] = __float2half_rn(p);
			if (lane == 0) {
				m_s[r] = mn;
				l_s[r] = l_s[r] * al + ps;
				al_s[r] = al;
			}
		}
		__syncthreads();

		// O = O·alpha + P·V over this warp's columns
#pragma unroll
		for (int mt = 0; mt < S::MT; mt++) {
			const float a0 = al_s[mt * 16 + g], a1 = al_s[mt * 16 + g + 8];
#pragma unroll
			for (int j = 0; j < FA_MAX_R / 8 / S::NW; j++) {
				acc[mt][j][0] *= a0;
				acc[mt][j][1] *= a0;
				acc[mt][j][2] *= a1;
				acc[mt][j][3] *= a1;
			}
		}
#pragma unroll
		for (int k0 = 0; k0 < FA_TT; k0 += 16) {
			uint32_t af[S::MT][4];
#pragma unroll
			for (int mt = 0; mt < S::MT; mt++) {
				const __half *pa = Ps + (mt * 16 + g) * PS + k0 + 2 * c;
				af[mt][0] = lds32(pa);
				af[mt][1] = lds32(pa + 8 * PS);
				af[mt][2] = lds32(pa + 8);
				af[mt][3] = lds32(pa + 8 * PS + 8);
			}
			const __half *vb = Ks + (k0 + 2 * c) * DS + col0 + g;
#pragma unroll
			for (int j = 0; j < FA_MAX_R / 8 / S::NW; j++) {
				if (j < NTW) {
					const __half *v = vb + 8 * j;
					uint32_t bf[2] = {pack2(v[0], v[DS]), pack2(v[8 * DS], v[9 * DS])};
#pragma unroll
					for (int mt = 0; mt < S::MT; mt++)
						mma16816(acc[mt][j], af[mt], bf);
				}
			}
		}
		__syncthreads();
		if (t0 + FA_TT < kv1) {
			store();
			__syncthreads();
		}
	}

	// partial (or, unsplit, final) output of every valid row
	const bool final_out = n_split == 1;
#pragma unroll
	for (int mt = 0; mt < S::MT; mt++) {
#pragma unroll
		for (int hh = 0; hh < 2; hh++) {
			const int r = mt * 16 + g + 8 * hh;
			if (r >= rows)
				continue;
			const float inv = final_out ? (l_s[r] > 0.0f ? 1.0f / l_s[r] : 0.0f) : 1.0f;
			float *o = final_out ? a.out + ((int64_t)q0 * G + r) * R : part_o + (pidx + r) * R;
#pragma unroll
			for (int j = 0; j < FA_MAX_R / 8 / S::NW; j++) {
				if (j < NTW) {
					float2 v = make_float2(acc[mt][j][2 * hh] * inv, acc[mt][j][2 * hh + 1] * inv);
					*(float2 *)(o + col0 + 8 * j + 2 * c) = v;
				}
			}
		}
	}
	if (!final_out)
		for (int r = threadIdx.x; r < rows; r += blockDim.x) {
			part_ml[(pidx + r) * 2] = m_s[r];
			part_ml[(pidx + r) * 2 + 1] = l_s[r];
		}
	if (ML && !final_out)
		fa_merge_last<G, QT, S::NW>(a, nq_blocks, (float *)smem);
}

// Q rows for the fused kernel: [qabs | RoPE(q_rot)] · scale in f16, once
// per layer instead of once per block.
static __global__ void q_prep_kernel(attn_args a, kv_layout L, __half *Qh)
{
	pdl_begin();
	const int row = blockIdx.x, D = a.R + a.Dr;
	const int64_t p = (int64_t)a.pos[0] + row / a.G;
	for (int d = threadIdx.x; d < a.R; d += blockDim.x)
		Qh[(int64_t)row * D + d] = __float2half_rn(a.qabs[(int64_t)row * a.R + d] * a.scale);
	for (int k = threadIdx.x; k < a.Dr / 2; k += blockDim.x) {
		const float *qr = a.q + (int64_t)row * a.Dk + (a.Dk - a.Dr);
		float x0 = qr[2 * k], x1 = qr[2 * k + 1];
		rope_pair(&x0, &x1, L.inv_freq[k], (double)p);
		Qh[(int64_t)row * D + a.R + 2 * k] = __float2half_rn(x0 * a.scale);
		Qh[(int64_t)row * D + a.R + 2 * k + 1] = __float2half_rn(x1 * a.scale);
	}
}

// Merge the splits of one (token, head) row: one block per row; the
// splits' weights first, then each warp sums a share of the splits over
// all columns (float4 per lane), then the warps' sums are added.
#define FR_WARPS 8
// One row's merge by the NW warps of the calling block (every thread of it
// must call: it has barriers). w: [n_split] and acc_s: [NW][R] floats of
// shared memory, red: [NW]. Used by the reduce kernel (the default) and by
// the attention kernel's last block (glm_cuda_options.attn_merge_last).
template <int NW>
static __device__ __forceinline__ void fa_merge_row(const float *ml, const float *po, int G, int QT, int M, int R,
                                                    int n_split, float *out, int row, float *w, float *acc_s,
                                                    float *red)
{
	const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
	const int t = row / G, qb = t / QT, r = row - qb * QT * G;
	const size_t base = (size_t)qb * n_split * M + r;   // entry of split s: base + s*M

	float mx = -INFINITY;
	for (int s = threadIdx.x; s < n_split; s += blockDim.x)
		if (ml[(base + (size_t)s * M) * 2 + 1] > 0.0f)
			mx = fmaxf(mx, ml[(base + (size_t)s * M) * 2]);
	mx = warp_max(mx);
	if (lane == 0)
		red[warp] = mx;
	__syncthreads();
	mx = -INFINITY;
	for (int i = 0; i < NW; i++)
		mx = fmaxf(mx, red[i]);
	__syncthreads();
	float den = 0.0f;
	for (int s = threadIdx.x; s < n_split; s += blockDim.x) {
		const float l = ml[(base + (size_t)s * M) * 2 + 1];
		const float ws = l > 0.0f ? __expf(ml[(base + (size_t)s * M) * 2] - mx) : 0.0f;
		w[s] = ws;
		den += ws * l;
	}
	den = warp_sum(den);
	if (lane == 0)
		red[warp] = den;
	__syncthreads();
	den = 0.0f;
	for (int i = 0; i < NW; i++)
		den += red[i];

	float4 acc[FA_MAX_R / 128];
#pragma unroll
	for (int k = 0; k < FA_MAX_R / 128; k++)
		acc[k] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
	for (int s = warp; s < n_split; s += NW) {
		const float ws = w[s];
		if (ws == 0.0f)
			continue;
		const float4 *p = (const float4 *)(po + (base + (size_t)s * M) * R);
#pragma unroll
		for (int k = 0; k < FA_MAX_R / 128; k++) {
			const int c = lane + 32 * k;
			if (c < R / 4) {
				const float4 v = p[c];
				acc[k].x += ws * v.x;
				acc[k].y += ws * v.y;
				acc[k].z += ws * v.z;
				acc[k].w += ws * v.w;
			}
		}
	}
#pragma unroll
	for (int k = 0; k < FA_MAX_R / 128; k++) {
		const int c = lane + 32 * k;
		if (c < R / 4)
			*(float4 *)(acc_s + warp * R + 4 * c) = acc[k];
	}
	__syncthreads();
	const float inv = den > 0.0f ? 1.0f / den : 0.0f;
	for (int d = threadIdx.x; d < R; d += blockDim.x) {
		float sum = 0.0f;
		for (int i = 0; i < NW; i++)
			sum += acc_s[i * R + d];
		out[(int64_t)row * R + d] = sum * inv;
	}
}


static __global__ void __launch_bounds__(FR_WARPS * WARP)
fa_reduce_kernel(const float *ml, const float *po, int G, int QT, int M, int R, int n_split, float *out)
{
	pdl_begin();
	extern __shared__ float fr_sm[];
	__shared__ float red[FR_WARPS];
	// [n_split] split weights, then [FR_WARPS][R] partial sums
	fa_merge_row<FR_WARPS>(ml, po, G, QT, M, R, n_split, out, blockIdx.x, fr_sm, fr_sm + (n_split + 3) / 4 * 4,
	                       red);
}

// ---- which instantiations exist
#define FA_GROUPS(X) X(1) X(2) X(4) X(8) X(16) X(20) X(32) X(64)

static bool fa_group_ok(int g)
{
#define GR_(N) if (g == N) return true;
	FA_GROUPS(GR_)
#undef GR_
	return false;
}

static int fa_nw(int G, int QT) { return (G * QT + 15) / 16 >= 4 ? 16 : 8; }

// Query tokens per block: 1 for decode; for batches as many as make 64
// (or 32) rows, when the column split and the shared memory allow it.
static int fa_pick_qt(int G, int R, int D, int n)
{
	int dev = 0, optin = 0;
	cudaGetDevice(&dev);
	cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
	const int cand[3] = {G >= 64 ? 1 : 64 / G, G >= 32 ? 1 : 32 / G, 1};
	for (int i = n > 1 ? 0 : 2; i < 3; i++) {
		const int QT = cand[i], MT = (G * QT + 15) / 16;
		if (R % (8 * fa_nw(G, QT)) == 0 && fa_smem_bytes(MT * 16, FA_MAX_R + 64) <= (size_t)optin)
			return QT;
	}
	return 0;
}

template <int G, int QT, int KT>
static int fa_run(const attn_args *a, const kv_layout *L, cudaStream_t s, char *err, size_t errlen)
{
	typedef fa_shape<G, QT> S;
	const int D = a->R + a->Dr;
	const size_t smem = fa_smem_bytes(S::MP, D);
	const int nq = (int)ceil_div(a->n, QT);
	static bool attr_set[64];
	int dev = 0;
	cudaGetDevice(&dev);
	if (!attr_set[dev & 63]) {
		if (CUDA_FAIL(cudaFuncSetAttribute(fa_kernel<G, QT, KT, false>, cudaFuncAttributeMaxDynamicSharedMemorySize,
		                                   (int)(fa_smem_bytes(S::MP, FA_MAX_R + 64))), err, errlen))
			return -1;
		attr_set[dev & 63] = true;
	}
	launch_k(q_prep_kernel, dim3(a->n * G), dim3(256), 0, s, *a, *L, (__half *)a->work);
	dim3 grid((unsigned)a->n_split, (unsigned)nq);
	// the merge in the last block (decode only: one query token per block)
	// needs its weights and partial sums to fit in the kernel's shared
	// memory; otherwise the reduce kernel as usual
	attn_args ka = *a;
	if (ka.merge_cnt && (QT != 1 || a->n_split < 2 || nq > ka.n_merge_cnt ||
	                     sizeof(float) * ((a->n_split + 3) / 4 * 4 + (size_t)S::NW * (a->R + 1) + 1) > smem))
		ka.merge_cnt = NULL;
	if constexpr (QT == 1) {
		if (ka.merge_cnt) {
			static bool attr_ml[64];
			if (!attr_ml[dev & 63]) {
				if (CUDA_FAIL(cudaFuncSetAttribute(fa_kernel<G, QT, KT, true>,
				                                   cudaFuncAttributeMaxDynamicSharedMemorySize,
				                                   (int)(fa_smem_bytes(S::MP, FA_MAX_R + 64))), err, errlen))
					return -1;
				attr_ml[dev & 63] = true;
			}
			launch_k(fa_kernel<G, QT, KT, true>, dim3(grid), dim3(S::NT), smem, s, ka, *L, nq);
		}
	}
	if (!ka.merge_cnt)
		launch_k(fa_kernel<G, QT, KT, false>, dim3(grid), dim3(S::NT), smem, s, ka, *L, nq);
	if (LAUNCH_FAIL(err, errlen))
		return -1;
	if (a->n_split > 1 && !ka.merge_cnt) {
		const float *ml = a->work + fa_q_floats(a->n, G, D);
		const float *po = ml + ((size_t)nq * a->n_split * S::M * 2 + 3) / 4 * 4;
		const size_t sm = sizeof(float) * ((a->n_split + 3) / 4 * 4 + (size_t)FR_WARPS * a->R);
		launch_k(fa_reduce_kernel, dim3(a->n * G), dim3(FR_WARPS * WARP), sm, s, ml, po, G, QT, S::M, a->R,
		         a->n_split, a->out);
		if (LAUNCH_FAIL(err, errlen))
			return -1;
	}
	return 0;
}

template <int G, int QT>
static int fa_run_kt(const attn_args *a, cudaStream_t s, char *err, size_t errlen)
{
	switch (a->L->type) {
	case KV_F16: return fa_run<G, QT, KV_F16>(a, a->L, s, err, errlen);
	case KV_BF16: return fa_run<G, QT, KV_BF16>(a, a->L, s, err, errlen);
	case KV_Q8_0: return fa_run<G, QT, KV_Q8_0>(a, a->L, s, err, errlen);
	}
	snprintf(err, errlen, "cuda: fused attention: cache type %d is not supported", a->L->type);
	return -1;
}

template <int G>
static int fa_run_qt(int QT, const attn_args *a, cudaStream_t s, char *err, size_t errlen)
{
	enum { Q64 = G >= 64 ? 1 : 64 / G, Q32 = G >= 32 ? 1 : 32 / G };
	if (QT == Q64)
		return fa_run_kt<G, Q64>(a, s, err, errlen);
	if (QT == Q32)
		return fa_run_kt<G, Q32>(a, s, err, errlen);
	return fa_run_kt<G, 1>(a, s, err, errlen);
}

size_t attn_work_bytes_fused(int G, int R, int n, int n_split)
{
	const size_t q = fa_q_floats(n, G, R + 64) * sizeof(float);
	const int QT = n > 1 ? (G >= 64 ? 1 : 64 / G) : 1;      // the most rows any choice has
	const size_t nq = (size_t)ceil_div(n, QT), M = (size_t)G * QT;
	const size_t nq1 = (size_t)n, M1 = (size_t)G;           // or one token per block
	const size_t a = nq * M, b = nq1 * M1;
	return q + ((a > b ? a : b) * n_split * (2 + (size_t)R) + 4) * sizeof(float);
}

bool attn_fused_supported(int G, int R, int Dr, int kv_type)
{
	if (!fa_group_ok(G) || kv_type == KV_F32 || R > FA_MAX_R || (R + Dr) % 16 || Dr % 2 || Dr > 64)
		return false;
	return fa_pick_qt(G, R, R + Dr, 1) == 1;
}

int attn_fused(const attn_args *a, cudaStream_t s, char *err, size_t errlen)
{
	const int QT = fa_group_ok(a->G) ? fa_pick_qt(a->G, a->R, a->R + a->Dr, a->n) : 0;
	if (!QT) {
		snprintf(err, errlen, "cuda: fused attention: no kernel for %d heads of %d", a->G, a->R);
		return -1;
	}
	if (a->n_split > 1 && attn_work_bytes_fused(a->G, a->R, a->n, a->n_split) > a->work_bytes) {
		snprintf(err, errlen, "cuda: fused attention: work buffer too small");
		return -1;
	}
	switch (a->G) {
#define GCASE_(N) case N: return fa_run_qt<N>(QT, a, s, err, errlen);
	FA_GROUPS(GCASE_)
#undef GCASE_
	}
	return -1;
}

// ---------------------------------------------------------------- plain path

// Qf[row][0:D] = [qabs | RoPE(q_rot)] · scale, row = t*G + h
static __global__ void q_assemble_kernel(attn_args a, kv_layout L, int t0, int nrows, float *Qf)
{
	const int row = blockIdx.x, D = a.R + a.Dr;
	const int64_t grow = (int64_t)t0 * a.G + row;
	const int64_t p = (int64_t)a.pos[0] + t0 + row / a.G;
	for (int d = threadIdx.x; d < a.R; d += blockDim.x)
		Qf[(int64_t)row * D + d] = a.qabs[grow * a.R + d] * a.scale;
	for (int k = threadIdx.x; k < a.Dr / 2; k += blockDim.x) {
		const float *qr = a.q + grow * a.Dk + (a.Dk - a.Dr);
		float x0 = qr[2 * k], x1 = qr[2 * k + 1];
		rope_pair(&x0, &x1, L.inv_freq[k], (double)p);
		Qf[(int64_t)row * D + a.R + 2 * k] = x0 * a.scale;
		Qf[(int64_t)row * D + a.R + 2 * k + 1] = x1 * a.scale;
	}
}

// S[row][kv]: one warp per (cache row, query token), lanes across D. The
// grid is fixed (graph capture); rows past the token's position are -inf.
template <int KT>
static __global__ void scores_kernel(attn_args a, kv_layout L, int t0, const float *Qf, int64_t ld, float *Sm)
{
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, D = a.R + a.Dr;
	const int tq = blockIdx.y;
	const int64_t len = (int64_t)a.pos[0] + t0 + tq + 1;
	for (int64_t kv = (int64_t)blockIdx.x * (blockDim.x / WARP) + warp; kv < len;
	     kv += (int64_t)gridDim.x * (blockDim.x / WARP)) {
		const uint8_t *row = a.cache + kv * L.row_bytes;
		for (int h = 0; h < a.G; h++) {
			const float *q = Qf + ((int64_t)tq * a.G + h) * D;
			float acc = 0.0f;
			for (int d = lane; d < D; d += WARP)
				acc += q[d] * kv_get<KT>(row, d);
			acc = warp_sum(acc);
			if (lane == 0)
				Sm[((int64_t)tq * a.G + h) * ld + kv] = acc;
		}
	}
}

// in-place softmax of each row over its token's visible keys
static __global__ void softmax_rows_kernel(attn_args a, int t0, float *Sm, int64_t ld)
{
	__shared__ float red[32];
	float *s = Sm + (int64_t)blockIdx.x * ld;
	const int64_t len = (int64_t)a.pos[0] + t0 + blockIdx.x / a.G + 1;
	const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nw = blockDim.x / WARP;
	float mx = -INFINITY;
	for (int64_t i = threadIdx.x; i < len; i += blockDim.x)
		mx = fmaxf(mx, s[i]);
	mx = warp_max(mx);
	if (lane == 0)
		red[warp] = mx;
	__syncthreads();
	mx = -INFINITY;
	for (int i = 0; i < nw; i++)
		mx = fmaxf(mx, red[i]);
	__syncthreads();
	float sum = 0.0f;
	for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
		const float e = expf(s[i] - mx);
		s[i] = e;
		sum += e;
	}
	sum = warp_sum(sum);
	if (lane == 0)
		red[warp] = sum;
	__syncthreads();
	sum = 0.0f;
	for (int i = 0; i < nw; i++)
		sum += red[i];
	const float inv = 1.0f / sum;
	for (int64_t i = threadIdx.x; i < len; i += blockDim.x)
		s[i] *= inv;
}

// out[row][c] += Σ_kv P[row][kv] · V[kv][c] over one range of 256 keys:
// thread per column, blocks across (rows, key ranges), added atomically
// into the zeroed output.
#define PV_RANGE 256
template <int KT>
static __global__ void pv_kernel(attn_args a, kv_layout L, int t0, const float *Sm, int64_t ld)
{
	const int c = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y;
	const int64_t len = (int64_t)a.pos[0] + t0 + row / a.G + 1;
	const int64_t k0 = (int64_t)blockIdx.z * PV_RANGE, k1 = min(len, k0 + PV_RANGE);
	if (c >= a.R || k0 >= k1)
		return;
	const float *p = Sm + (int64_t)row * ld;
	float acc = 0.0f;
	for (int64_t kv = k0; kv < k1; kv++)
		acc += p[kv] * kv_get<KT>(a.cache + kv * L.row_bytes, c);
	atomicAdd(&a.out[((int64_t)t0 * a.G + row) * a.R + c], acc);
}

size_t attn_work_bytes_plain(int G, int n, int64_t n_ctx)
{
	// query tokens go through in chunks; one token with the whole context is the least
	const size_t per_tok = (size_t)G * ((size_t)n_ctx + FA_MAX_R + 64) * sizeof(float);
	size_t want = per_tok * (size_t)(n < 16 ? n : 16);
	if (want > ((size_t)512 << 20))
		want = ((size_t)512 << 20);
	return want > per_tok ? want : per_tok;
}

// Graph-safe: no host reads of the position; grids cover the whole cache
// and each kernel stops at the token's own length.
template <int KT>
static int plain_run(const attn_args *a, int64_t max_ctx, cudaStream_t s, char *err, size_t errlen)
{
	const int D = a->R + a->Dr;
	const size_t per_tok = (size_t)a->G * ((size_t)max_ctx + D) * sizeof(float);
	int chunk = (int)(a->work_bytes / per_tok);
	if (chunk < 1) {
		snprintf(err, errlen, "cuda: attention: work buffer too small for context %lld", (long long)max_ctx);
		return -1;
	}
	for (int t0 = 0; t0 < a->n; t0 += chunk) {
		const int nt = a->n - t0 < chunk ? a->n - t0 : chunk;
		float *Qf = a->work, *Sm = a->work + (size_t)nt * a->G * D;
		q_assemble_kernel<<<nt * a->G, 64, 0, s>>>(*a, *a->L, t0, nt * a->G, Qf);
		const unsigned gx = (unsigned)(ceil_div(max_ctx, 8) < 1024 ? ceil_div(max_ctx, 8) : 1024);
		scores_kernel<KT><<<dim3(gx, nt), 256, 0, s>>>(*a, *a->L, t0, Qf, max_ctx, Sm);
		softmax_rows_kernel<<<nt * a->G, 256, 0, s>>>(*a, t0, Sm, max_ctx);
		if (CUDA_FAIL(cudaMemsetAsync(a->out + (size_t)t0 * a->G * a->R, 0, sizeof(float) * nt * a->G * a->R, s),
		              err, errlen))
			return -1;
		pv_kernel<KT><<<dim3((unsigned)ceil_div(a->R, 128), nt * a->G, (unsigned)ceil_div(max_ctx, PV_RANGE)), 128, 0, s>>>(
			*a, *a->L, t0, Sm, max_ctx);
		if (LAUNCH_FAIL(err, errlen))
			return -1;
	}
	return 0;
}

int attn_plain(const attn_args *a, int64_t max_ctx, cudaStream_t s, char *err, size_t errlen)
{
	switch (a->L->type) {
	case KV_F32: return plain_run<KV_F32>(a, max_ctx, s, err, errlen);
	case KV_F16: return plain_run<KV_F16>(a, max_ctx, s, err, errlen);
	case KV_BF16: return plain_run<KV_BF16>(a, max_ctx, s, err, errlen);
	case KV_Q8_0: return plain_run<KV_Q8_0>(a, max_ctx, s, err, errlen);
	}
	snprintf(err, errlen, "cuda: attention: cache type %d is not supported", a->L->type);
	return -1;
}
