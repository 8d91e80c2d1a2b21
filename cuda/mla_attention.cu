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
// Decode (one query token, G <= 32) has its own kernel, fa_decode_kernel
// below: the heads on the MMA's N side, Q^T in registers, 64-row tiles by
// cp.async, the split count derived from the position on the device.
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
// q8_0: the 8 quants and their block's scale (kv_layout: scales from byte
// row_vals of the row on).
template <int KT> static __device__ __forceinline__ uint4 kv_raw8(const uint8_t *row, int c, int row_vals)
{
	if (KT == KV_Q8_0) {
		const uint2 q = *(const uint2 *)(row + 8 * c);   // (stored + 128: back to int8)
		return make_uint4(q.x ^ 0x80808080u, q.y ^ 0x80808080u, ((const uint16_t *)(row + row_vals))[c >> 2], 0u);
	}
	return *(const uint4 *)(row + 16 * c);
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

template <int G, int QT, int KT>
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
	uint4 raw[S::CHUNKS_MAX];
	auto fetch = [&](int64_t t0) {
#pragma unroll
		for (int k = 0; k < S::CHUNKS_MAX; k++) {
			const int i = threadIdx.x + k * S::NT;
			if (i < nchunk) {
				const int tok = i / cpr, cc = i % cpr;
				raw[k] = t0 + tok < kv1 ? kv_raw8<KT>(a.cache + (t0 + tok) * L.row_bytes, cc, L.row_vals)
				                        : make_uint4(0, 0, 0, 0);
			}
		}
	};
	auto store = [&]() {
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
			// every lane has read m_s[r] before lane 0 replaces it (the
			// shuffles order them in practice; racecheck wants it said)
			__syncwarp();
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

// Merge the splits of one (token, head) row, or of a range of its
// columns: the splits' weights first, then each warp sums a share of the
// splits (float4 per lane), then the warps' sums are added.
#define FR_WARPS 8
// Every thread of the calling block must call (barriers). Columns
// [col0, col0 + ncol) of the row (col0 a multiple of 4). w: [n_split] and
// acc_s: [NW][ncol] floats of shared memory, red: [NW]. Splits whose l is 0
// (no rows) are skipped: their partials were never written.
template <int NW>
static __device__ __forceinline__ void fa_merge_row(const float *ml, const float *po, int G, int QT, int M, int R,
                                                    int n_split, float *out, int row, int col0, int ncol, float *w,
                                                    float *acc_s, float *red)
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
	// unrolled: the loads of several splits in flight at once
#pragma unroll 4
	for (int s = warp; s < n_split; s += NW) {
		const float ws = w[s];
		if (ws == 0.0f)
			continue;
		const float4 *p = (const float4 *)(po + (base + (size_t)s * M) * R + col0);
#pragma unroll
		for (int k = 0; k < FA_MAX_R / 128; k++) {
			const int c = lane + 32 * k;
			if (c < ncol / 4) {
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
		if (c < ncol / 4)
			*(float4 *)(acc_s + warp * ncol + 4 * c) = acc[k];
	}
	__syncthreads();
	const float inv = den > 0.0f ? 1.0f / den : 0.0f;
	for (int d = threadIdx.x; d < ncol; d += blockDim.x) {
		float sum = 0.0f;
		for (int i = 0; i < NW; i++)
			sum += acc_s[i * ncol + d];
		out[(int64_t)row * R + col0 + d] = sum * inv;
	}
}

static __global__ void __launch_bounds__(FR_WARPS * WARP)
fa_reduce_kernel(const float *ml, const float *po, int G, int QT, int M, int R, int n_split, float *out)
{
	pdl_begin();
	extern __shared__ float fr_sm[];
	__shared__ float red[FR_WARPS];
	// [n_split] split weights, then [FR_WARPS][R] partial sums
	fa_merge_row<FR_WARPS>(ml, po, G, QT, M, R, n_split, out, blockIdx.x, 0, R, fr_sm,
	                       fr_sm + (n_split + 3) / 4 * 4, red);
}

// ---------------------------------------------------------------- decode

// Decode (one query token, G <= 32 heads over one cache row each step):
// the step-6 kernel above walked 32-row tiles with one tile in flight per
// SM, a convert-and-store phase and 4 barriers per tile, two blocks per SM
// in two waves, plus q_prep before it and a reduce over every split after
// it: 0.55 TB/s at 32k. Here:
// - scores as S^T = K·Q^T and the output as O^T = V^T·P^T: the cache rows
//   are the M side of the MMA (tiles of 16) and the heads the N side (tiles
//   of 8), so 20 heads are padded to 24, not 32;
// - a warp keeps its quarter of Q^T (its k-steps of D) in registers for the
//   whole kernel, so each cache value is read from shared memory once per
//   use (the Q rows were read again for every tile);
// - FD_T-row tiles come by cp.async straight into shared memory, one tile
//   ahead in two buffers (no registers held, nothing to store for f16);
//   bf16 is turned into f16 in place; q8_0 tiles stay int8 (the rows of a
//   tile are one contiguous byte range): a warp reads its MMA fragments
//   from them with ldmatrix and scales them in registers (q8_frag_k,
//   q8_frag_vt), so a q8_0 tile costs half the bytes and no pass of its own
//   (it used to be expanded into an f16 tile first: a barrier and ~6
//   instructions per value, which made q8_0 slower than f16);
// - Q is prepared in the prologue (no q_prep launch), overlapping the first
//   tile's load;
// - the grid is fixed when the decode graph is captured, so the rows per
//   block and the number of blocks that get any are derived from the
//   position on the device (fd_chunk): short contexts use few blocks, one
//   block writes the output itself, and the merge reads only the blocks
//   that had rows.
// Same numerics as the general kernel: Q and P in f16 (round to nearest),
// f32 accumulation, online softmax in f32.
#define FD_T 64                                    // cache rows per tile
// Warps per block, NW (a template parameter: 8, or 16 for the full GLM
// shape, glm_cuda_options.attn_decode_warps): 2 row groups x NW/2 k-groups
// of the scores; each warp holds fd_kq(NW) k-steps of Q^T and fd_ct(NW)
// 16-column tiles of O^T.
#define FD_NW 8
static __host__ __device__ constexpr int fd_kg(int nw) { return nw / 2; }
static __host__ __device__ constexpr int fd_kq(int nw) { return ((FA_MAX_R + 64) / 16 + nw / 2 - 1) / (nw / 2); }
static __host__ __device__ constexpr int fd_ct(int nw) { return FA_MAX_R / 16 / nw; }
#define FD_SPS (FD_T + 4)                          // floats per row of partial scores (banks)
#define FD_PS (FD_T + 8)                           // halves per row of P (banks)
#define FD_RCOLS 64                                // columns per block of the merge (2 per lane)

// Rows per block (whole tiles, at least one) for kv_len rows over n_grid
// blocks, and how many blocks get rows. The kernel and the merge both call
// it with the position read on the device.
static __host__ __device__ __forceinline__ int fd_chunk(int kv_len, int n_grid, int *n_eff)
{
	int chunk = ((kv_len + n_grid - 1) / n_grid + FD_T - 1) / FD_T * FD_T;
	if (chunk < FD_T)
		chunk = FD_T;
	*n_eff = (kv_len + chunk - 1) / chunk;
	return chunk;
}

// bytes of a cache row of GLM-4.7-Flash's shape (576 values; q8_0 as
// kv_layout lays it out: quants, scales, padded to 16 bytes)
static __host__ __device__ __forceinline__ size_t fd_full_row_bytes(int KT)
{
	return KT == KV_Q8_0 ? ((FA_MAX_R + 64) * 17 / 16 + 15) / 16 * 16 : (size_t)(FA_MAX_R + 64) * 2;
}

// Shared memory of the decode kernel, byte offsets. Two stages (f16 tiles
// with padded rows, or a q8_0 tile's rows as they are in the cache: their
// 624-byte stride already spreads 8 rows over all banks), the partial
// scores of the k-groups [fd_kg(NW)][GP][FD_SPS], P [GP][FD_PS] (f16), m, l,
// alpha [GP]. Q (prologue only, f16 rows of DS) lives in the second stage
// and its raw rope pairs in the partial scores' space, the output rows
// (epilogue only, f32 rows of R + 4) in the two stages: a stage is sized
// to hold Q, and half the output rows, whatever its tile needs.
struct fd_layout {
	int DS;                    // halves per f16 tile row (and per Q row)
	size_t stage, sp, p, ml, total;
};
static __host__ __device__ __forceinline__ fd_layout fd_layout_of(int KT, int D, size_t row_bytes, int GP, int NW)
{
	fd_layout o;
	o.DS = D + FA_PAD;
	size_t st = KT == KV_Q8_0 ? (size_t)FD_T * row_bytes : (size_t)FD_T * o.DS * 2;
	const size_t q = (size_t)GP * o.DS * 2, out = ((size_t)GP * (D + 4) * 4 + 1) / 2;
	st = st > q ? st : q;
	st = st > out ? st : out;
	o.stage = (st + 15) / 16 * 16;
	o.sp = 2 * o.stage;
	o.p = o.sp + (size_t)fd_kg(NW) * GP * FD_SPS * 4;
	o.ml = o.p + (size_t)GP * FD_PS * 2;
	o.total = o.ml + (size_t)3 * GP * 4;
	return o;
}
static size_t fd_smem_max(int KT, int GP, int NW)
{
	return fd_layout_of(KT, FA_MAX_R + 64, fd_full_row_bytes(KV_Q8_0), GP, NW).total;
}

static __device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid)
{
#if __CUDA_ARCH__ >= 800
	// src-size 0 fills the 16 bytes with zeros (rows past the context)
	const unsigned d = (unsigned)__cvta_generic_to_shared(dst);
	asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(valid ? 16 : 0)
	             : "memory");
#else
	*(uint4 *)dst = valid ? *(const uint4 *)src : make_uint4(0, 0, 0, 0);
#endif
}
static __device__ __forceinline__ void cp_async_commit(void)
{
#if __CUDA_ARCH__ >= 800
	asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
static __device__ __forceinline__ void cp_async_wait_all(void)
{
#if __CUDA_ARCH__ >= 800
	asm volatile("cp.async.wait_group 0;\n" ::: "memory");
#endif
}
// four 8x8 f16 matrices; lanes 8i..8i+7 give the row addresses of matrix i
static __device__ __forceinline__ void ldsm_x4(uint32_t r[4], const __half *p)
{
	const unsigned a = (unsigned)__cvta_generic_to_shared(p);
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
	             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
	             : "r"(a)
	             : "memory");
}
static __device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const __half *p)
{
	const unsigned a = (unsigned)__cvta_generic_to_shared(p);
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
	             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
	             : "r"(a)
	             : "memory");
}

// Two int8 values of a word (the bytes the selector sel names, 0x5140:
// bytes 0 and 1) times the scales d2, as f16. The cache holds q + 128
// (kv_layout), which a byte permute makes the mantissa of the f16
// 1024 + 128 + q (exact), 1152 is subtracted (exact), and the product with
// the f16 scale is rounded once: the same value as kv_cvt8's f32 product
// rounded to f16 (both exact before the one rounding), without
// int-to-float conversions (a quarter rate pipe).
template <uint32_t SEL> static __device__ __forceinline__ uint32_t q8_pair(uint32_t w, __half2 d2)
{
	const uint32_t b = __byte_perm(w, 0x64646464u, SEL);
	const __half2 x = __hmul2(__hsub2(*(const __half2 *)&b, __float2half2_rn(1152.0f)), d2);
	return *(const uint32_t *)&x;
}
static __device__ __forceinline__ __half2 q8_scale2(const unsigned char *p)
{
	return __half2half2(*(const __half *)p);
}

// The A fragments of the scores (S^T = K·Q^T) for rows 0..31 of a q8_0
// tile (rows at stride rb, scales from byte sv of a row) and k-step ks,
// read as int8 straight from the raw tile: ldmatrix sees a row's 16 bytes
// as 8 b16 values, so lane (g, c) gets bytes 4c .. 4c+3 of rows g, g+8,
// g+16, g+24. The fragment's k 2c, 2c+1 (a[0], a[1]) are bytes 4c, 4c+1,
// its k 2c+8, 2c+9 (a[2], a[3]) bytes 4c+2, 4c+3: a permutation of the
// k-step's dimensions that Q^T's fragments repeat (qf in the kernel), so
// the dot products are the same sums. Scales: one per row (the k-step lies
// in one block).
static __device__ __forceinline__ void q8_frag_k(uint32_t ka[2][4], const unsigned char *t, size_t rb, int sv, int ks,
                                                 int lane)
{
	uint32_t r[4];
	ldsm_x4(r, (const __half *)(t + lane * rb + 16 * ks));
	const int g = lane >> 2;
	__half2 d[4];
#pragma unroll
	for (int i = 0; i < 4; i++)
		d[i] = q8_scale2(t + (8 * i + g) * rb + sv + 2 * (ks >> 1));
#pragma unroll
	for (int j = 0; j < 2; j++) {
		ka[j][0] = q8_pair<0x5140>(r[2 * j], d[2 * j]);
		ka[j][1] = q8_pair<0x5140>(r[2 * j + 1], d[2 * j + 1]);
		ka[j][2] = q8_pair<0x5342>(r[2 * j], d[2 * j]);
		ka[j][3] = q8_pair<0x5342>(r[2 * j + 1], d[2 * j + 1]);
	}
}

// The A fragments of O^T = V^T·P^T for rows 0..15 of a q8_0 tile and the
// two column tiles of block b (columns 32b .. 32b+31), from the raw tile:
// ldmatrix.trans over b16 pairs of columns gives lane (g, c) the bytes of
// columns 2g, 2g+1 in rows 2c, 2c+1 (one word; rows 2c+8, 2c+9 the next).
// So the fragment's row g is column 2g and its row g + 8 column 2g + 1
// (the kernel writes its output rows back in that order), and k is the
// tile row, as P^T's fragments have it. Scales: rows 2c, 2c+1 and
// 2c+8, 2c+9 of block b.
static __device__ __forceinline__ void q8_frag_vt(uint32_t va[2][4], const unsigned char *t, size_t rb, int sv, int b,
                                                  int lane)
{
	uint32_t r[4];
	ldsm_x4_t(r, (const __half *)(t + ((lane & 7) + 8 * ((lane >> 3) & 1)) * rb + 32 * b + 16 * (lane >> 4)));
	const int c = lane & 3;
	const unsigned char *s = t + sv + 2 * b;
	const __half2 d01 = __halves2half2(*(const __half *)(s + 2 * c * rb), *(const __half *)(s + (2 * c + 1) * rb));
	const __half2 d89 =
		__halves2half2(*(const __half *)(s + (2 * c + 8) * rb), *(const __half *)(s + (2 * c + 9) * rb));
#pragma unroll
	for (int h = 0; h < 2; h++) {
		va[h][0] = q8_pair<0x4240>(r[2 * h], d01);
		va[h][1] = q8_pair<0x4341>(r[2 * h], d01);
		va[h][2] = q8_pair<0x4240>(r[2 * h + 1], d89);
		va[h][3] = q8_pair<0x4341>(r[2 * h + 1], d89);
	}
}

// Column tile i of warp w's share of O^T: f16 and bf16 interleave the
// warps (w, w + NW, ...); q8_0 gives a warp runs of whole blocks (tiles
// 2j, 2j + 1 share a block's scales and one ldmatrix).
template <int KT, int NW> static __device__ __forceinline__ int fd_ct_of(int w, int i)
{
	return KT == KV_Q8_0 ? fd_ct(NW) * w + i : w + NW * i;
}

// FULL: the shape of GLM-4.7-Flash's cache (latent 512, rope 64) as
// constants, so the guards fold away and the divisions become shifts: the
// prologue and epilogue run once per block, each time from a cold
// instruction cache, so their length is time at every depth.
template <int G, int KT, bool FULL, int NW>
static __global__ void __launch_bounds__(NW * WARP, 1)
fa_decode_kernel(attn_args a, kv_layout L)
{
	constexpr int NQ = (G + 7) / 8, GP = 8 * NQ, NT = NW * WARP;
	constexpr int FD_KG = fd_kg(NW), FD_KQ = fd_kq(NW), FD_CT = fd_ct(NW);
	constexpr int FD_PR = (GP / 2 + NW - 1) / NW;   // head pairs per warp in the softmax
	if (!a.load_early)
		pdl_begin();
	extern __shared__ __align__(16) unsigned char smem[];
	const int R = FULL ? FA_MAX_R : a.R, Dr = FULL ? 64 : a.Dr, D = R + Dr, KS = D / 16, CT = R / 16;
	const size_t rb = FULL ? fd_full_row_bytes(KT) : L.row_bytes;
	const int SV = FULL ? FA_MAX_R + 64 : L.row_vals;   // q8_0: byte offset of a row's scales
	const fd_layout Y = fd_layout_of(KT, D, rb, GP, NW);
	const int DS = Y.DS;
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, g = lane >> 2, c = lane & 3;
	const int pos = __ldcg(a.pos), kv_len = pos + 1;
	int n_eff;
	const int chunk = fd_chunk(kv_len, gridDim.x, &n_eff);
	const int sp = blockIdx.x;
	if (sp >= n_eff) {
		if (a.load_early)
			pdl_begin();
		return;
	}
	const int kv0 = sp * chunk, kv1 = min(kv_len, kv0 + chunk);
	const int ntile = (kv1 - kv0 + FD_T - 1) / FD_T;

	float *Sp = (float *)(smem + Y.sp);
	__half *Ps = (__half *)(smem + Y.p);
	float *m_s = (float *)(smem + Y.ml), *l_s = m_s + GP, *al_s = l_s + GP;

	// f16/bf16 tiles: this thread's 16-byte chunks, walked without a
	// division per chunk
	const int cpr = D / 8, nch = FD_T * cpr, step_r = NT / cpr, step_c = NT % cpr;
	const int row_a = threadIdx.x / cpr, cc_a = threadIdx.x % cpr;
	auto issue = [&](int it) {
		const int t0 = kv0 + it * FD_T;
		unsigned char *dst = smem + (it & 1) * Y.stage;
		if (KT == KV_Q8_0) {
			// the tile's rows are one run of bytes (rb a multiple of 16);
			// rows past the context are zeros (scale 0: finite values that
			// P = 0 leaves out)
			const uint8_t *p0 = a.cache + (size_t)t0 * rb;
			const int nw = (int)(FD_T * rb / 16), nv = (int)((size_t)(kv1 - t0) * rb / 16);
			for (int i = threadIdx.x; i < nw; i += NT)
				cp_async16(dst + 16 * i, i < nv ? p0 + 16 * i : a.cache, i < nv);
		} else if (FULL) {
			// rows are contiguous in the cache, so chunk i of the tile is at
			// byte 16i there, and at 16(i + row) in the stage (rows padded by
			// 16 bytes): affine in i but for the row, a multiply-high
			const uint8_t *p0 = a.cache + (size_t)t0 * rb;
			const int nrow = kv1 - t0;
#pragma unroll
			for (int k = 0; k < FD_T * (FA_MAX_R + 64) / 8 / NT; k++) {
				const int i = threadIdx.x + k * NT, row = i / ((FA_MAX_R + 64) / 8);
				cp_async16(dst + 16 * (i + row), row < nrow ? p0 + 16 * i : a.cache, row < nrow);
			}
		} else {
			int row = row_a, cc = cc_a;
			for (int i = threadIdx.x; i < nch; i += NT) {
				const int kv = t0 + row;
				const bool v = kv < kv1;
				cp_async16((__half *)dst + row * DS + 8 * cc, a.cache + (size_t)(v ? kv : kv0) * rb + 16 * cc, v);
				row += step_r;
				cc += step_c;
				if (cc >= cpr) {
					cc -= cpr;
					row++;
				}
			}
		}
		cp_async_commit();
	};
	issue(0);
	// Under PDL the first tile is on its way before the wait (a.load_early):
	// the position comes from the host before the step and the cache rows
	// from kv_store, launches back (common.cuh); Q is the previous
	// kernel's output.
	if (a.load_early)
		pdl_begin();

	// Q rows [qabs | RoPE(q_rot)] · scale in f16 (as q_prep_kernel), the
	// padding heads zero, while the first tile is on its way. Every global
	// load first, then the conversions (a loop of load-then-store waits one
	// L2 round trip per iteration). The rope pairs go through shared memory
	// (the partial scores' space, free until the first tile) so that the
	// RoPE code, long for its double-precision reduction, exists once.
	{
		__half *Qs = (__half *)(smem + Y.stage);
		float2 *rp = (float2 *)Sp;
		constexpr int QI = (GP * (FA_MAX_R / 8) + NT - 1) / NT, RI = (GP * 32 + NT - 1) / NT;
		const int cR = R / 8, hr = Dr / 2;
		float4 xq[QI][2];
		float2 xr[RI];
#pragma unroll
		for (int k = 0; k < QI; k++) {
			const int i = threadIdx.x + k * NT, h = i / cR, c8 = i % cR;
			xq[k][0] = xq[k][1] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
			if (h < G) {
				xq[k][0] = *(const float4 *)(a.qabs + (int64_t)h * R + 8 * c8);
				xq[k][1] = *(const float4 *)(a.qabs + (int64_t)h * R + 8 * c8 + 4);
			}
		}
#pragma unroll
		for (int k = 0; k < RI; k++) {
			const int i = threadIdx.x + k * NT, h = i / hr, j = i % hr;
			xr[k] = make_float2(0.0f, 0.0f);
			if (h < G)
				xr[k] = *(const float2 *)(a.q + (int64_t)h * a.Dk + (a.Dk - Dr) + 2 * j);
		}
#pragma unroll
		for (int k = 0; k < QI; k++) {
			const int i = threadIdx.x + k * NT, h = i / cR, c8 = i % cR;
			if (h < GP) {
				uint4 v;
				__half2 *o = (__half2 *)&v;
				o[0] = __floats2half2_rn(xq[k][0].x * a.scale, xq[k][0].y * a.scale);
				o[1] = __floats2half2_rn(xq[k][0].z * a.scale, xq[k][0].w * a.scale);
				o[2] = __floats2half2_rn(xq[k][1].x * a.scale, xq[k][1].y * a.scale);
				o[3] = __floats2half2_rn(xq[k][1].z * a.scale, xq[k][1].w * a.scale);
				*(uint4 *)(Qs + h * DS + 8 * c8) = v;
			}
		}
#pragma unroll
		for (int k = 0; k < RI; k++) {
			const int i = threadIdx.x + k * NT;
			if (i < GP * hr)
				rp[i] = xr[k];
		}
		__syncthreads();
#pragma unroll 1
		for (int i = threadIdx.x; i < GP * hr; i += NT) {
			const int h = i / hr, j = i % hr;
			float x0 = rp[i].x, x1 = rp[i].y;
			rope_pair(&x0, &x1, L.inv_freq[j], (double)pos);
			*(__half2 *)(Qs + h * DS + R + 2 * j) = __floats2half2_rn(x0 * a.scale, x1 * a.scale);
		}
		__syncthreads();
	}

	// warp = (row group mg: tile rows 32mg..32mg+31, k-group kg: k-steps
	// kg, kg+4, ...); its Q^T fragments for the whole kernel. q8_0: the
	// k-step's 16 dimensions in the order its A fragments hold them (see
	// q8_frag_k): k 2c, 2c+1, 2c+8, 2c+9 are dimensions 4c .. 4c+3.
	const int mg = warp / FD_KG, kg = warp % FD_KG;
	uint32_t qf[FD_KQ][NQ][2];
	{
		const __half *Qs = (const __half *)(smem + Y.stage);
		constexpr bool Q8 = KT == KV_Q8_0;
#pragma unroll
		for (int i = 0; i < FD_KQ; i++) {
			const int ks = kg + FD_KG * i;
#pragma unroll
			for (int nt = 0; nt < NQ; nt++) {
				const __half *q = Qs + (nt * 8 + g) * DS + 16 * ks + (Q8 ? 4 : 2) * c;
				qf[i][nt][0] = ks < KS ? lds32(q) : 0u;
				qf[i][nt][1] = ks < KS ? lds32(q + (Q8 ? 2 : 8)) : 0u;
			}
		}
	}

	// O^T accumulators: column tiles warp, warp + 8, ... × head tiles
	float acc[FD_CT][NQ][4];
#pragma unroll
	for (int i = 0; i < FD_CT; i++)
#pragma unroll
		for (int nt = 0; nt < NQ; nt++)
			acc[i][nt][0] = acc[i][nt][1] = acc[i][nt][2] = acc[i][nt][3] = 0.0f;

	// the online softmax's running max and this lane's share of the sum,
	// per head pair the warp takes (see below)
	float m_run[FD_PR], l_run[FD_PR];
#pragma unroll
	for (int i = 0; i < FD_PR; i++) {
		m_run[i] = -INFINITY;
		l_run[i] = 0.0f;
	}

	for (int it = 0; it < ntile; it++) {
		const int t0 = kv0 + it * FD_T;
		const int nrow = min(FD_T, kv1 - t0);
		unsigned char *stg = smem + (it & 1) * Y.stage;
		cp_async_wait_all();
		if (KT == KV_BF16) {
			// this thread's own chunks (visible to it after the wait)
			int row = row_a, cc = cc_a;
			for (int i = threadIdx.x; i < nch; i += NT) {
				uint4 *p = (uint4 *)((__half *)stg + row * DS + 8 * cc);
				*p = kv_cvt8<KV_BF16>(*p);
				row += step_r;
				cc += step_c;
				if (cc >= cpr) {
					cc -= cpr;
					row++;
				}
			}
		}
		// tile it is in; every warp is done with tile it-1 (its stage is
		// free again: the next tile goes there)
		__syncthreads();
		if (it + 1 < ntile)
			issue(it + 1);
		const __half *Kt = (const __half *)stg;

		// partial scores of this warp's rows and k-steps, all heads
		float sc[2][NQ][4];
#pragma unroll
		for (int j = 0; j < 2; j++)
#pragma unroll
			for (int nt = 0; nt < NQ; nt++)
				sc[j][nt][0] = sc[j][nt][1] = sc[j][nt][2] = sc[j][nt][3] = 0.0f;
		if (32 * mg < nrow) {
#pragma unroll
			for (int i = 0; i < FD_KQ; i++) {
				const int ks = kg + FD_KG * i;
				if (ks < KS) {
					uint32_t ka[2][4];
					if (KT == KV_Q8_0) {
						q8_frag_k(ka, stg + (size_t)32 * mg * rb, rb, SV, ks, lane);
					} else {
#pragma unroll
						for (int j = 0; j < 2; j++)
							ldsm_x4(ka[j], Kt + (32 * mg + 16 * j + (lane & 15)) * DS + 16 * ks + 8 * (lane >> 4));
					}
#pragma unroll
					for (int j = 0; j < 2; j++)
#pragma unroll
						for (int nt = 0; nt < NQ; nt++)
							mma16816(sc[j][nt], ka[j], qf[i][nt]);
				}
			}
		}
#pragma unroll
		for (int j = 0; j < 2; j++)
#pragma unroll
			for (int nt = 0; nt < NQ; nt++) {
				float *s = Sp + ((size_t)kg * GP + nt * 8 + 2 * c) * FD_SPS + 32 * mg + 16 * j + g;
				s[0] = sc[j][nt][0];
				s[FD_SPS] = sc[j][nt][1];
				s[8] = sc[j][nt][2];
				s[FD_SPS + 8] = sc[j][nt][3];
			}
		__syncthreads();

		// online softmax: a warp takes two heads at once, one per half
		// (pair w, w + NW, ...; the padding heads have zero scores and get
		// P = 0), a lane four rows; the shuffles stay inside a half, and the
		// sums of P stay per lane until the end (m_run, l_run), so a tile's
		// chain is one 4-step max where it was two 5-step chains per head
#pragma unroll
		for (int i = 0; i < FD_PR; i++) {
			const int pi = warp + NW * i;
			if (pi >= GP / 2)
				break;
			const int h = 2 * pi + (lane >> 4), r0 = 4 * (lane & 15);
			float4 sv = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
			for (int k = 0; k < FD_KG; k++) {
				const float4 v = *(const float4 *)(Sp + ((size_t)k * GP + h) * FD_SPS + r0);
				sv.x += v.x;
				sv.y += v.y;
				sv.z += v.z;
				sv.w += v.w;
			}
			sv.x = r0 < nrow ? sv.x : -INFINITY;
			sv.y = r0 + 1 < nrow ? sv.y : -INFINITY;
			sv.z = r0 + 2 < nrow ? sv.z : -INFINITY;
			sv.w = r0 + 3 < nrow ? sv.w : -INFINITY;
			float mx = fmaxf(fmaxf(sv.x, sv.y), fmaxf(sv.z, sv.w));
#pragma unroll
			for (int o = 8; o > 0; o >>= 1)
				mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
			// the tile has a valid row, so mn is finite
			const float mo = m_run[i], mn = fmaxf(mo, mx), al = __expf(mo - mn);
			const float p0 = __expf(sv.x - mn), p1 = __expf(sv.y - mn), p2 = __expf(sv.z - mn), p3 = __expf(sv.w - mn);
			l_run[i] = l_run[i] * al + ((p0 + p1) + (p2 + p3));
			m_run[i] = mn;
			uint2 pv = make_uint2(0u, 0u);
			if (h < G) {
				const __half2 a01 = __floats2half2_rn(p0, p1), a23 = __floats2half2_rn(p2, p3);
				pv = make_uint2(*(const uint32_t *)&a01, *(const uint32_t *)&a23);
			}
			*(uint2 *)(Ps + h * FD_PS + r0) = pv;
			if ((lane & 15) == 0)
				al_s[h] = al;
		}
		__syncthreads();

		// O^T = O^T·alpha + V^T·P^T over this warp's column tiles
#pragma unroll
		for (int nt = 0; nt < NQ; nt++) {
			const float a0 = al_s[nt * 8 + 2 * c], a1 = al_s[nt * 8 + 2 * c + 1];
#pragma unroll
			for (int i = 0; i < FD_CT; i++) {
				acc[i][nt][0] *= a0;
				acc[i][nt][1] *= a1;
				acc[i][nt][2] *= a0;
				acc[i][nt][3] *= a1;
			}
		}
		uint32_t pb[FD_T / 16][NQ][2];
#pragma unroll
		for (int nt = 0; nt < NQ; nt++)
#pragma unroll
			for (int kk = 0; kk < FD_T / 32; kk++) {
				uint32_t r[4];
				ldsm_x4(r, Ps + (nt * 8 + (lane & 7)) * FD_PS + 32 * kk + 8 * (lane >> 3));
				pb[2 * kk][nt][0] = r[0];
				pb[2 * kk][nt][1] = r[1];
				pb[2 * kk + 1][nt][0] = r[2];
				pb[2 * kk + 1][nt][1] = r[3];
			}
		const int nks = (nrow + 15) / 16;
#pragma unroll
		for (int ks = 0; ks < FD_T / 16; ks++) {
			if (ks < nks) {
				if (KT == KV_Q8_0) {
					// column tiles in pairs: one q8_0 block's 32 columns
#pragma unroll
					for (int i = 0; i < FD_CT; i += 2) {
						const int ct = fd_ct_of<KT, NW>(warp, i);
						if (ct < CT) {
							uint32_t va[2][4];
							q8_frag_vt(va, stg + (size_t)16 * ks * rb, rb, SV, ct / 2, lane);
#pragma unroll
							for (int h = 0; h < 2; h++)
#pragma unroll
								for (int nt = 0; nt < NQ; nt++)
									mma16816(acc[i + h][nt], va[h], pb[ks][nt]);
						}
					}
				} else {
#pragma unroll
					for (int i = 0; i < FD_CT; i++) {
						const int ct = fd_ct_of<KT, NW>(warp, i);
						if (ct < CT) {
							uint32_t va[4];
							ldsm_x4_t(va, Kt + (16 * ks + (lane & 7) + 8 * (lane >> 4)) * DS + 16 * ct +
							                  8 * ((lane >> 3) & 1));
#pragma unroll
							for (int nt = 0; nt < NQ; nt++)
								mma16816(acc[i][nt], va, pb[ks][nt]);
						}
					}
				}
			}
		}
	}

	// each head's m and l (the lanes' shares summed) for the epilogue
#pragma unroll
	for (int i = 0; i < FD_PR; i++) {
		const int pi = warp + NW * i;
		if (pi >= GP / 2)
			break;
		float l = l_run[i];
#pragma unroll
		for (int o = 8; o > 0; o >>= 1)
			l += __shfl_xor_sync(0xffffffffu, l, o);
		if ((lane & 15) == 0) {
			m_s[2 * pi + (lane >> 4)] = m_run[i];
			l_s[2 * pi + (lane >> 4)] = l;
		}
	}
	// the output rows through shared memory (the tiles are free once every
	// warp is done), then coalesced: final, or this block's partials
	__syncthreads();
	float *Os = (float *)smem;
	const int OS = R + 4;
#pragma unroll
	for (int i = 0; i < FD_CT; i++) {
		const int ct = fd_ct_of<KT, NW>(warp, i);
		if (ct < CT) {
#pragma unroll
			for (int nt = 0; nt < NQ; nt++) {
				if (KT == KV_Q8_0) {
					// q8_frag_vt's rows: g is column 2g, g + 8 column 2g + 1
					float *o = Os + (nt * 8 + 2 * c) * OS + 16 * ct + 2 * g;
					*(float2 *)o = make_float2(acc[i][nt][0], acc[i][nt][2]);
					*(float2 *)(o + OS) = make_float2(acc[i][nt][1], acc[i][nt][3]);
				} else {
					float *o = Os + (nt * 8 + 2 * c) * OS + 16 * ct + g;
					o[0] = acc[i][nt][0];
					o[OS] = acc[i][nt][1];
					o[8] = acc[i][nt][2];
					o[OS + 8] = acc[i][nt][3];
				}
			}
		}
	}
	__syncthreads();
	const bool final_out = n_eff == 1;
	float *ml = a.work + fa_q_floats(1, G, D);
	float *po = ml + ((size_t)gridDim.x * G * 2 + 3) / 4 * 4;
	const int c4n = R / 4;
	for (int i = threadIdx.x; i < G * c4n; i += NT) {
		const int h = i / c4n, k = i % c4n;
		float4 v = *(const float4 *)(Os + h * OS + 4 * k);
		if (final_out) {
			const float inv = __frcp_rn(l_s[h]);   // = 1.0f / l, without the division's slow path
			v.x *= inv;
			v.y *= inv;
			v.z *= inv;
			v.w *= inv;
			*(float4 *)(a.out + (int64_t)h * R + 4 * k) = v;
		} else {
			*(float4 *)(po + ((size_t)sp * G + h) * R + 4 * k) = v;
		}
	}
	if (!final_out)
		for (int h = threadIdx.x; h < G; h += NT) {
			ml[((size_t)sp * G + h) * 2] = m_s[h];
			ml[((size_t)sp * G + h) * 2 + 1] = l_s[h];
		}
}

// The decode kernel's merge: only the blocks that had rows (the count the
// kernel derived from the same position); a block per head and FD_RCOLS
// columns. Nothing to do when one block had them all. It runs between two
// dependent kernels, so its cost is its latency: a thread per split reads
// its (m, l) (the second pass finds them in cache), the weights go to
// shared memory, then every split's two columns per lane are in flight at
// once (the general merge, fa_merge_row, walked them four at a time and
// took ~7 µs per layer at 8k and 32k).
static __global__ void __launch_bounds__(FR_WARPS * WARP)
fa_decode_reduce_kernel(const float *ml, const float *po, const int *pos, int G, int R, int n_grid, float *out)
{
	pdl_begin();
	extern __shared__ float w[];                  // [n_eff] split weights
	__shared__ float red[2][FR_WARPS];
	__shared__ float2 part[FR_WARPS][FD_RCOLS / 2];
	int n_eff;
	fd_chunk(pos[0] + 1, n_grid, &n_eff);
	if (n_eff < 2)
		return;
	const int h = blockIdx.x, lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
	const float2 *ml2 = (const float2 *)ml;       // [split][head] (m, l); every split < n_eff had rows
	float mx = -INFINITY;
	for (int s = threadIdx.x; s < n_eff; s += blockDim.x)
		mx = fmaxf(mx, ml2[(size_t)s * G + h].x);
	mx = warp_max(mx);
	if (lane == 0)
		red[0][warp] = mx;
	__syncthreads();
	mx = red[0][0];
	for (int i = 1; i < FR_WARPS; i++)
		mx = fmaxf(mx, red[0][i]);
	float den = 0.0f;
	for (int s = threadIdx.x; s < n_eff; s += blockDim.x) {
		const float2 v = ml2[(size_t)s * G + h];
		const float ws = __expf(v.x - mx);
		w[s] = ws;
		den += ws * v.y;
	}
	den = warp_sum(den);
	if (lane == 0)
		red[1][warp] = den;
	__syncthreads();
	const int col = blockIdx.y * FD_RCOLS + 2 * lane;
	float2 acc = make_float2(0.0f, 0.0f);
	if (col < R) {
		const float *p = po + (size_t)h * R + col;
#pragma unroll 16
		for (int s = warp; s < n_eff; s += FR_WARPS) {
			const float ws = w[s];
			const float2 v = *(const float2 *)(p + (size_t)s * G * R);
			acc.x += ws * v.x;
			acc.y += ws * v.y;
		}
	}
	part[warp][lane] = acc;
	__syncthreads();
	if (warp == 0 && col < R) {
		den = 0.0f;
		for (int i = 0; i < FR_WARPS; i++)
			den += red[1][i];
		const float inv = 1.0f / den;
		float2 o = part[0][lane];
		for (int i = 1; i < FR_WARPS; i++) {
			o.x += part[i][lane].x;
			o.y += part[i][lane].y;
		}
		*(float2 *)(out + (size_t)h * R + col) = make_float2(o.x * inv, o.y * inv);
	}
}

// the decode kernel exists for this shape and fits in this device's shared memory
static bool fd_ok(int G, int R, int Dr, int KT)
{
	return G <= 32 && R % 16 == 0 && R <= FA_MAX_R && (R + Dr) % 16 == 0 && R + Dr <= FA_MAX_R + 64 &&
	       fd_smem_max(KT, (G + 7) / 8 * 8, FD_NW) <= (size_t)cuda_smem_optin();
}

template <int G, int KT, bool FULL, int NW>
static int fd_launch(const attn_args *a, cudaStream_t s, char *err, size_t errlen)
{
	static bool attr_set[64];
	int dev = 0;
	cudaGetDevice(&dev);
	if (!attr_set[dev & 63]) {
		if (CUDA_FAIL(cudaFuncSetAttribute(fa_decode_kernel<G, KT, FULL, NW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
		                                   (int)fd_smem_max(KT, (G + 7) / 8 * 8, NW)), err, errlen))
			return -1;
		attr_set[dev & 63] = true;
	}
	const size_t smem = fd_layout_of(KT, a->R + a->Dr, a->L->row_bytes, (G + 7) / 8 * 8, NW).total;
	launch_k(fa_decode_kernel<G, KT, FULL, NW>, dim3((unsigned)a->n_split), dim3(NW * WARP), smem, s, *a, *a->L);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

template <int G, int KT>
static int fd_run(const attn_args *a, cudaStream_t s, char *err, size_t errlen)
{
	const int D = a->R + a->Dr;
	const bool full = a->R == FA_MAX_R && a->Dr == 64 && a->L->row_bytes == fd_full_row_bytes(KT);
	// 16 warps only for the full shape (fewer instances to compile) and
	// where their partial scores fit
	const bool w16 = a->decode_warps != 8 && fd_smem_max(KT, (G + 7) / 8 * 8, 16) <= (size_t)cuda_smem_optin();
	if ((full ? (w16 ? fd_launch<G, KT, true, 16>(a, s, err, errlen)
	                                   : fd_launch<G, KT, true, FD_NW>(a, s, err, errlen))
	          : fd_launch<G, KT, false, FD_NW>(a, s, err, errlen)))
		return -1;
	if (a->n_split > 1) {
		const float *ml = a->work + fa_q_floats(1, G, D);
		const float *po = ml + ((size_t)a->n_split * G * 2 + 3) / 4 * 4;
		const size_t sm = sizeof(float) * a->n_split;
		launch_k(fa_decode_reduce_kernel, dim3((unsigned)G, (unsigned)ceil_div(a->R, FD_RCOLS)),
		         dim3(FR_WARPS * WARP), sm, s, ml, po, a->pos, G, a->R, a->n_split, a->out);
		if (LAUNCH_FAIL(err, errlen))
			return -1;
	}
	return 0;
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
	const size_t optin = (size_t)cuda_smem_optin();
	const int cand[3] = {G >= 64 ? 1 : 64 / G, G >= 32 ? 1 : 32 / G, 1};
	for (int i = n > 1 ? 0 : 2; i < 3; i++) {
		const int QT = cand[i], MT = (G * QT + 15) / 16;
		if (R % (8 * fa_nw(G, QT)) == 0 && fa_smem_bytes(MT * 16, FA_MAX_R + 64) <= optin)
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
		if (CUDA_FAIL(cudaFuncSetAttribute(fa_kernel<G, QT, KT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
		                                   (int)(fa_smem_bytes(S::MP, FA_MAX_R + 64))), err, errlen))
			return -1;
		attr_set[dev & 63] = true;
	}
	launch_k(q_prep_kernel, dim3(a->n * G), dim3(256), 0, s, *a, *L, (__half *)a->work);
	dim3 grid((unsigned)a->n_split, (unsigned)nq);
	launch_k(fa_kernel<G, QT, KT>, dim3(grid), dim3(S::NT), smem, s, *a, *L, nq);
	if (LAUNCH_FAIL(err, errlen))
		return -1;
	if (a->n_split > 1) {
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
	if constexpr (QT == 1 && G <= 32) {
		if (a->n == 1 && !a->decode_legacy && a->L->type != KV_F32 && fd_ok(G, a->R, a->Dr, a->L->type)) {
			switch (a->L->type) {
			case KV_F16: return fd_run<G, KV_F16>(a, s, err, errlen);
			case KV_BF16: return fd_run<G, KV_BF16>(a, s, err, errlen);
			case KV_Q8_0: return fd_run<G, KV_Q8_0>(a, s, err, errlen);
			}
		}
	}
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
				acc += q[d] * kv_get<KT>(row, d, L.row_vals);
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
		acc += p[kv] * kv_get<KT>(a.cache + kv * L.row_bytes, c, L.row_vals);
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
