// WebAssembly SIMD (128-bit) kernels of @gla/core's kernel layer. Built by scripts/build-wasm.mjs
// with Debian's clang-14 + lld-14 (--target=wasm32 -msimd128 -O3, no libc); the generated module
// is committed as src/kernels.wasm.ts and a test checks that regenerating gives the same bytes.
//
// Every function works on pointers into the instance's linear memory (the TypeScript glue in
// src/backend.ts places or streams the operands there). Sums are accumulated in double; the exp is
// evaluated in double for every output type. Definitions: src/kernels.ts of @gla/core.

#include <stdint.h>
#include <wasm_simd128.h>

typedef v128_t f64x2;

#define LOG2E 1.4426950408889634
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10

// exp(x) for x <= 0 (and -inf), lanes of f64x2. n = round(x / ln 2), r = x - n ln 2 (Cody-Waite,
// |r| <= ln2 / 2), e^r by a Taylor polynomial of degree DEG (Horner); for DEG = 12, 2^n is applied in
// two factors so that results down to the subnormal range (x >= -745.1) are right (below: 0).
// DEG = 12: truncation r^13/13! < 1.7e-16, i.e. within a few ulps of exp. DEG = 9: < 7.1e-12.
/** 2^n for integral n in [-1022, 1023] (lanes): (n + 1.5 * 2^52) holds n in its low bits; adding the
 * exponent bias and shifting it into the exponent field drops every other bit. */
static inline f64x2 pow2i(f64x2 n) {
  v128_t bits = wasm_f64x2_add(n, wasm_f64x2_splat(6755399441055744.0));
  return wasm_i64x2_shl(wasm_i64x2_add(bits, wasm_i64x2_splat(1023)), 52);
}

static inline f64x2 exp_core(f64x2 x, int deg) {
  x = wasm_f64x2_pmax(x, wasm_f64x2_splat(-746.0));
  f64x2 n = wasm_f64x2_nearest(wasm_f64x2_mul(x, wasm_f64x2_splat(LOG2E)));
  f64x2 r = wasm_f64x2_sub(x, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_HI)));
  r = wasm_f64x2_sub(r, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_LO)));
  f64x2 p;
  if (deg >= 12) {
    p = wasm_f64x2_splat(1.0 / 479001600.0);
    p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 39916800.0));
    p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 3628800.0));
    p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 362880.0));
  } else {
    p = wasm_f64x2_splat(1.0 / 362880.0);
  }
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 40320.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 5040.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 720.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 120.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 24.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 6.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(0.5));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0));
  if (deg < 12) {
    // Float32 cache: x >= -64 wherever the result is kept, so n >= -93 and one factor suffices
    // (entries below the cut-off are masked to 0 by the caller).
    return wasm_f64x2_mul(p, pow2i(wasm_f64x2_pmax(n, wasm_f64x2_splat(-1000.0))));
  }
  // n in [-1077, 0]: 2^n = 2^n1 * 2^n2 with n1 = floor(n / 2) (both factors are normal doubles).
  f64x2 n1 = wasm_f64x2_floor(wasm_f64x2_mul(n, wasm_f64x2_splat(0.5)));
  return wasm_f64x2_mul(wasm_f64x2_mul(p, pow2i(n1)), pow2i(wasm_f64x2_sub(n, n1)));
}

static inline double hsum(f64x2 v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

static inline double exp_scalar(double x, int deg) { return wasm_f64x2_extract_lane(exp_core(wasm_f64x2_splat(x), deg), 0); }

// ---------------------------------------------------------------------------------------------
// Exp-shift fill: rowMax[i] = beta * max_k z_ik, E_ik = exp(beta z_ik - rowMax[i]), rowSum[i] =
// sum_k E_ik; Float32 E: 0 below -64 (and exp of degree 9). mass[k] += E_ik / rowSum[i] if mass.

#define ROW_MAX(T)                                                  \
  static double row_max_##T(const T *z, int cols) {                 \
    double m = -__builtin_inf();                                    \
    for (int k = 0; k < cols; k++) m = z[k] > m ? (double)z[k] : m; \
    return m;                                                       \
  }
ROW_MAX(float)
ROW_MAX(double)

static inline f64x2 load2_float(const float *p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }
static inline f64x2 load2_double(const double *p) { return wasm_v128_load(p); }
static inline void store2_float(float *p, f64x2 v) { wasm_v128_store64_lane(p, wasm_f32x4_demote_f64x2_zero(v), 0); }
static inline void store2_double(double *p, f64x2 v) { wasm_v128_store(p, v); }

#define FILL(TZ, TE, DEG, CUT)                                                                                   \
  void fill_##TZ##_##TE(const TZ *z, int rows, int cols, double beta, TE *E, double *rowMax, double *rowSum, \
                        double *mass) {                                                                          \
    f64x2 vb = wasm_f64x2_splat(beta);                                                                         \
    for (int i = 0; i < rows; i++) {                                                                           \
      const TZ *zi = z + (long)i * cols;                                                                       \
      TE *ei = E + (long)i * cols;                                                                             \
      double m = row_max_##TZ(zi, cols) * beta;                                                                \
      rowMax[i] = m;                                                                                           \
      f64x2 vm = wasm_f64x2_splat(m);                                                                          \
      f64x2 acc = wasm_f64x2_splat(0);                                                                         \
      int k = 0;                                                                                               \
      for (; k + 1 < cols; k += 2) {                                                                           \
        f64x2 x = wasm_f64x2_sub(wasm_f64x2_mul(load2_##TZ(zi + k), vb), vm);                                  \
        f64x2 e = exp_core(x, DEG);                                                                            \
        if (CUT) e = wasm_v128_and(e, wasm_f64x2_ge(x, wasm_f64x2_splat(-64.0)));                              \
        store2_##TE(ei + k, e);                                                                                \
        acc = wasm_f64x2_add(acc, load2_##TE(ei + k));                                                         \
      }                                                                                                        \
      double s = hsum(acc);                                                                                    \
      for (; k < cols; k++) {                                                                                  \
        double x = (double)zi[k] * beta - m;                                                                   \
        double e = (CUT && !(x >= -64.0)) ? 0.0 : exp_scalar(x, DEG);                                          \
        ei[k] = (TE)e;                                                                                         \
        s += (double)ei[k];                                                                                    \
      }                                                                                                        \
      rowSum[i] = s;                                                                                           \
      if (mass) {                                                                                              \
        f64x2 r = wasm_f64x2_splat(1.0 / s);                                                                   \
        int k2 = 0;                                                                                            \
        for (; k2 + 1 < cols; k2 += 2)                                                                         \
          wasm_v128_store(mass + k2, wasm_f64x2_add(wasm_v128_load(mass + k2), wasm_f64x2_mul(load2_##TE(ei + k2), r))); \
        for (; k2 < cols; k2++) mass[k2] += (double)ei[k2] / s * 1.0;                                          \
      }                                                                                                        \
    }                                                                                                          \
  }
FILL(float, float, 9, 1)
FILL(double, float, 9, 1)
FILL(float, double, 12, 0)
FILL(double, double, 12, 0)

// ---------------------------------------------------------------------------------------------
// Mass pass: rowSum[i] = s_i = sum_k E_ik w_k; mass[k] += E_ik / s_i; sq[k] += (E_ik / s_i)^2.
// Two rows per sweep of mass (loaded and stored once per two rows).

#define MASS(TE)                                                                                                   \
  void mass_##TE(const TE *E, int rows, int cols, const double *w, double *rowSum, double *mass, double *sq) {   \
    int i = 0;                                                                                                     \
    for (; i + 1 < rows; i += 2) {                                                                                 \
      const TE *a = E + (long)i * cols;                                                                            \
      const TE *b = a + cols;                                                                                      \
      f64x2 sa0 = wasm_f64x2_splat(0), sa1 = sa0, sb0 = sa0, sb1 = sa0;                                            \
      int k = 0;                                                                                                   \
      for (; k + 3 < cols; k += 4) {                                                                               \
        f64x2 w0 = wasm_v128_load(w + k), w1 = wasm_v128_load(w + k + 2);                                          \
        sa0 = wasm_f64x2_add(sa0, wasm_f64x2_mul(load2_##TE(a + k), w0));                                          \
        sa1 = wasm_f64x2_add(sa1, wasm_f64x2_mul(load2_##TE(a + k + 2), w1));                                      \
        sb0 = wasm_f64x2_add(sb0, wasm_f64x2_mul(load2_##TE(b + k), w0));                                          \
        sb1 = wasm_f64x2_add(sb1, wasm_f64x2_mul(load2_##TE(b + k + 2), w1));                                      \
      }                                                                                                            \
      double sa = hsum(wasm_f64x2_add(sa0, sa1)), sb = hsum(wasm_f64x2_add(sb0, sb1));                             \
      for (; k < cols; k++) {                                                                                      \
        sa += (double)a[k] * w[k];                                                                                 \
        sb += (double)b[k] * w[k];                                                                                 \
      }                                                                                                            \
      rowSum[i] = sa;                                                                                              \
      rowSum[i + 1] = sb;                                                                                          \
      double ra = 1.0 / sa, rb = 1.0 / sb;                                                                         \
      f64x2 va = wasm_f64x2_splat(ra), vb = wasm_f64x2_splat(rb);                                                  \
      k = 0;                                                                                                       \
      if (sq) {                                                                                                    \
        for (; k + 1 < cols; k += 2) {                                                                             \
          f64x2 ua = wasm_f64x2_mul(load2_##TE(a + k), va), ub = wasm_f64x2_mul(load2_##TE(b + k), vb);           \
          wasm_v128_store(mass + k, wasm_f64x2_add(wasm_v128_load(mass + k), wasm_f64x2_add(ua, ub)));            \
          wasm_v128_store(sq + k, wasm_f64x2_add(wasm_v128_load(sq + k),                                           \
                                                 wasm_f64x2_add(wasm_f64x2_mul(ua, ua), wasm_f64x2_mul(ub, ub)))); \
        }                                                                                                          \
        for (; k < cols; k++) {                                                                                    \
          double ua = (double)a[k] * ra, ub = (double)b[k] * rb;                                                   \
          mass[k] += ua + ub;                                                                                      \
          sq[k] += ua * ua + ub * ub;                                                                              \
        }                                                                                                          \
      } else {                                                                                                     \
        for (; k + 1 < cols; k += 2) {                                                                             \
          f64x2 u = wasm_f64x2_add(wasm_f64x2_mul(load2_##TE(a + k), va), wasm_f64x2_mul(load2_##TE(b + k), vb)); \
          wasm_v128_store(mass + k, wasm_f64x2_add(wasm_v128_load(mass + k), u));                                  \
        }                                                                                                          \
        for (; k < cols; k++) mass[k] += (double)a[k] * ra + (double)b[k] * rb;                                    \
      }                                                                                                            \
    }                                                                                                              \
    for (; i < rows; i++) {                                                                                        \
      const TE *a = E + (long)i * cols;                                                                            \
      double s = 0;                                                                                                \
      for (int k = 0; k < cols; k++) s += (double)a[k] * w[k];                                                     \
      rowSum[i] = s;                                                                                               \
      double r = 1.0 / s;                                                                                          \
      for (int k = 0; k < cols; k++) {                                                                             \
        double u = (double)a[k] * r;                                                                               \
        mass[k] += u;                                                                                              \
        if (sq) sq[k] += u * u;                                                                                    \
      }                                                                                                            \
    }                                                                                                              \
  }
MASS(float)
MASS(double)

// ---------------------------------------------------------------------------------------------
// Selection: for rows [0, rows) of E (already offset by the caller), the k with E_ik w_k >= cut[i],
// ascending, into index; offsets[r + 1] = end of row r. Returns the rows completed before index
// (capacity entries) would overflow.

#define SELECT(TE)                                                                                                 \
  int select_##TE(const TE *E, int rows, int cols, const double *w, const double *cut, int32_t *index,            \
                  int capacity, int32_t *offsets) {                                                                \
    int count = 0;                                                                                                 \
    offsets[0] = 0;                                                                                                \
    for (int i = 0; i < rows; i++) {                                                                               \
      const TE *a = E + (long)i * cols;                                                                            \
      double c = cut[i];                                                                                           \
      f64x2 vc = wasm_f64x2_splat(c);                                                                              \
      int k = 0;                                                                                                   \
      for (; k + 1 < cols; k += 2) {                                                                               \
        f64x2 t = wasm_f64x2_mul(load2_##TE(a + k), wasm_v128_load(w + k));                                        \
        int bits = wasm_i64x2_bitmask(wasm_f64x2_ge(t, vc));                                                       \
        if (bits) {                                                                                                \
          if (bits & 1) {                                                                                          \
            if (count == capacity) return i;                                                                       \
            index[count++] = k;                                                                                    \
          }                                                                                                        \
          if (bits & 2) {                                                                                          \
            if (count == capacity) return i;                                                                       \
            index[count++] = k + 1;                                                                                \
          }                                                                                                        \
        }                                                                                                          \
      }                                                                                                            \
      for (; k < cols; k++)                                                                                        \
        if ((double)a[k] * w[k] >= c) {                                                                            \
          if (count == capacity) return i;                                                                         \
          index[count++] = k;                                                                                      \
        }                                                                                                          \
      offsets[i + 1] = count;                                                                                      \
    }                                                                                                              \
    return rows;                                                                                                   \
  }
SELECT(float)
SELECT(double)

// ---------------------------------------------------------------------------------------------
// Row sums of exp(beta z_ik - beta max_i) (out[i]; the caller adds the maximum and the log).

#define ROWSUM(TZ)                                                                        \
  void rowexpsum_##TZ(const TZ *z, int rows, int cols, double beta, double *maxOut, double *out) { \
    f64x2 vb = wasm_f64x2_splat(beta);                                                    \
    for (int i = 0; i < rows; i++) {                                                      \
      const TZ *zi = z + (long)i * cols;                                                  \
      double m = row_max_##TZ(zi, cols) * beta;                                           \
      f64x2 vm = wasm_f64x2_splat(m);                                                     \
      f64x2 acc = wasm_f64x2_splat(0);                                                    \
      int k = 0;                                                                          \
      for (; k + 1 < cols; k += 2)                                                        \
        acc = wasm_f64x2_add(acc, exp_core(wasm_f64x2_sub(wasm_f64x2_mul(load2_##TZ(zi + k), vb), vm), 12)); \
      double s = hsum(acc);                                                               \
      for (; k < cols; k++) s += exp_scalar((double)zi[k] * beta - m, 12);                \
      maxOut[i] = m;                                                                      \
      out[i] = s;                                                                         \
    }                                                                                     \
  }
ROWSUM(float)
ROWSUM(double)

// ---------------------------------------------------------------------------------------------
// Temperature NLL pass at beta: per row u = z - max z, v = exp(beta u) (0 for masked entries),
// s = sum v (written to sums[i]), mean = sum v u / s, var = sum v (u - mean)^2 / s. Returns in
// out[0..2] the sums of (mean - u_y), var and beta u_y; the caller adds sum log s_i.
// scratch: cols doubles.

#define NLL(TZ)                                                                                            \
  void nll_##TZ(const TZ *z, int rows, int cols, const int32_t *labels, double beta, double *sums, double *out, \
                double *scratch) {                                                                         \
    double d1 = 0, d2 = 0, zy = 0;                                                                         \
    f64x2 vb = wasm_f64x2_splat(beta);                                                                     \
    f64x2 ninf = wasm_f64x2_splat(-__builtin_inf());                                                       \
    for (int i = 0; i < rows; i++) {                                                                       \
      const TZ *zi = z + (long)i * cols;                                                                   \
      double m = row_max_##TZ(zi, cols);                                                                   \
      f64x2 vm = wasm_f64x2_splat(m);                                                                      \
      f64x2 s = wasm_f64x2_splat(0), s1 = s;                                                               \
      int k = 0;                                                                                           \
      for (; k + 1 < cols; k += 2) {                                                                       \
        f64x2 zz = load2_##TZ(zi + k);                                                                     \
        f64x2 live = wasm_f64x2_ne(zz, ninf);                                                              \
        f64x2 u = wasm_v128_and(wasm_f64x2_sub(zz, vm), live);                                             \
        f64x2 v = wasm_v128_and(exp_core(wasm_f64x2_mul(u, vb), 12), live);                                \
        wasm_v128_store(scratch + k, v);                                                                   \
        s = wasm_f64x2_add(s, v);                                                                          \
        s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(v, u));                                                     \
      }                                                                                                    \
      double ss = hsum(s), ss1 = hsum(s1);                                                                 \
      for (; k < cols; k++) {                                                                              \
        double zz = (double)zi[k];                                                                         \
        double v = zz == -__builtin_inf() ? 0.0 : exp_scalar(beta * (zz - m), 12);                         \
        scratch[k] = v;                                                                                    \
        ss += v;                                                                                           \
        if (v > 0) ss1 += v * (zz - m);                                                                    \
      }                                                                                                    \
      double mean = ss1 / ss;                                                                              \
      f64x2 vmean = wasm_f64x2_splat(mean);                                                                \
      f64x2 s2 = wasm_f64x2_splat(0);                                                                      \
      k = 0;                                                                                               \
      for (; k + 1 < cols; k += 2) {                                                                       \
        f64x2 zz = load2_##TZ(zi + k);                                                                     \
        f64x2 live = wasm_f64x2_ne(zz, ninf);                                                              \
        f64x2 d = wasm_v128_and(wasm_f64x2_sub(wasm_f64x2_sub(zz, vm), vmean), live);                      \
        s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(wasm_v128_load(scratch + k), wasm_f64x2_mul(d, d)));        \
      }                                                                                                    \
      double ss2 = hsum(s2);                                                                               \
      for (; k < cols; k++) {                                                                              \
        double v = scratch[k];                                                                             \
        if (v > 0) {                                                                                       \
          double d = (double)zi[k] - m - mean;                                                             \
          ss2 += v * d * d;                                                                                \
        }                                                                                                  \
      }                                                                                                    \
      double uy = (double)zi[labels[i]] - m;                                                               \
      sums[i] = ss;                                                                                        \
      d1 += mean - uy;                                                                                     \
      d2 += ss2 / ss;                                                                                      \
      zy += beta * uy;                                                                                     \
    }                                                                                                      \
    out[0] = d1;                                                                                           \
    out[1] = d2;                                                                                           \
    out[2] = zy;                                                                                           \
  }
NLL(float)
NLL(double)

// ---------------------------------------------------------------------------------------------
// GEMM out (m x n) = A (m x k) B^T (B n x k), double. Blocks of 4 rows of A x 2 rows of B, f64x2
// accumulators along k.

void gemm_abt(const double *A, int m, const double *B, int n, int k, double *out) {
  int i = 0;
  for (; i + 3 < m; i += 4) {
    const double *a0 = A + (long)i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
    int j = 0;
    for (; j + 1 < n; j += 2) {
      const double *b0 = B + (long)j * k, *b1 = b0 + k;
      f64x2 s00 = wasm_f64x2_splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      int d = 0;
      for (; d + 1 < k; d += 2) {
        f64x2 w0 = wasm_v128_load(b0 + d), w1 = wasm_v128_load(b1 + d);
        f64x2 x0 = wasm_v128_load(a0 + d), x1 = wasm_v128_load(a1 + d), x2 = wasm_v128_load(a2 + d), x3 = wasm_v128_load(a3 + d);
        s00 = wasm_f64x2_add(s00, wasm_f64x2_mul(x0, w0));
        s01 = wasm_f64x2_add(s01, wasm_f64x2_mul(x0, w1));
        s10 = wasm_f64x2_add(s10, wasm_f64x2_mul(x1, w0));
        s11 = wasm_f64x2_add(s11, wasm_f64x2_mul(x1, w1));
        s20 = wasm_f64x2_add(s20, wasm_f64x2_mul(x2, w0));
        s21 = wasm_f64x2_add(s21, wasm_f64x2_mul(x2, w1));
        s30 = wasm_f64x2_add(s30, wasm_f64x2_mul(x3, w0));
        s31 = wasm_f64x2_add(s31, wasm_f64x2_mul(x3, w1));
      }
      double r00 = hsum(s00), r01 = hsum(s01), r10 = hsum(s10), r11 = hsum(s11);
      double r20 = hsum(s20), r21 = hsum(s21), r30 = hsum(s30), r31 = hsum(s31);
      for (; d < k; d++) {
        r00 += a0[d] * b0[d];
        r01 += a0[d] * b1[d];
        r10 += a1[d] * b0[d];
        r11 += a1[d] * b1[d];
        r20 += a2[d] * b0[d];
        r21 += a2[d] * b1[d];
        r30 += a3[d] * b0[d];
        r31 += a3[d] * b1[d];
      }
      double *o = out + (long)i * n + j;
      o[0] = r00;
      o[1] = r01;
      o[n] = r10;
      o[n + 1] = r11;
      o[2 * n] = r20;
      o[2 * n + 1] = r21;
      o[3 * n] = r30;
      o[3 * n + 1] = r31;
    }
    for (; j < n; j++) {
      const double *b0 = B + (long)j * k;
      double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      for (int d = 0; d < k; d++) {
        r0 += a0[d] * b0[d];
        r1 += a1[d] * b0[d];
        r2 += a2[d] * b0[d];
        r3 += a3[d] * b0[d];
      }
      out[(long)i * n + j] = r0;
      out[(long)(i + 1) * n + j] = r1;
      out[(long)(i + 2) * n + j] = r2;
      out[(long)(i + 3) * n + j] = r3;
    }
  }
  for (; i < m; i++) {
    const double *a0 = A + (long)i * k;
    for (int j = 0; j < n; j++) {
      const double *b0 = B + (long)j * k;
      f64x2 s = wasm_f64x2_splat(0);
      int d = 0;
      for (; d + 1 < k; d += 2) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_v128_load(a0 + d), wasm_v128_load(b0 + d)));
      double r = hsum(s);
      for (; d < k; d++) r += a0[d] * b0[d];
      out[(long)i * n + j] = r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Memory-read probe: sum of n floats (four f32x4 accumulators; the benchmark's bandwidth yardstick).

double sum_float(const float *p, int n) {
  v128_t a = wasm_f32x4_splat(0), b = a, c = a, d = a;
  int i = 0;
  for (; i + 15 < n; i += 16) {
    a = wasm_f32x4_add(a, wasm_v128_load(p + i));
    b = wasm_f32x4_add(b, wasm_v128_load(p + i + 4));
    c = wasm_f32x4_add(c, wasm_v128_load(p + i + 8));
    d = wasm_f32x4_add(d, wasm_v128_load(p + i + 12));
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(a, b), wasm_f32x4_add(c, d));
  double r = (double)wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) +
             wasm_f32x4_extract_lane(s, 3);
  for (; i < n; i++) r += p[i];
  return r;
}

// ---------------------------------------------------------------------------------------------
// Validation: the first row in [0, rows) holding a NaN or +-Infinity (v * 0 is 0 only for finite
// v), or rows when there is none.

int nonfinite_row_float(const float *z, int rows, int cols) {
  for (int i = 0; i < rows; i++) {
    const float *zi = z + (long)i * cols;
    v128_t acc = wasm_f32x4_splat(0);
    int k = 0;
    for (; k + 3 < cols; k += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(zi + k), wasm_f32x4_splat(0)));
    float s = 0;
    for (; k < cols; k++) s += zi[k] * 0.0f;
    if (wasm_v128_any_true(wasm_f32x4_ne(acc, wasm_f32x4_splat(0))) || s != 0) return i;
  }
  return rows;
}

int nonfinite_row_double(const double *z, int rows, int cols) {
  for (int i = 0; i < rows; i++) {
    const double *zi = z + (long)i * cols;
    v128_t acc = wasm_f64x2_splat(0);
    int k = 0;
    for (; k + 1 < cols; k += 2) acc = wasm_f64x2_add(acc, wasm_f64x2_mul(wasm_v128_load(zi + k), wasm_f64x2_splat(0)));
    double s = 0;
    for (; k < cols; k++) s += zi[k] * 0.0;
    if (wasm_v128_any_true(wasm_f64x2_ne(acc, wasm_f64x2_splat(0))) || s != 0) return i;
  }
  return rows;
}
