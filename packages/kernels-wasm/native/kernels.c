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

// exp(x) for x <= 0 (and -inf), lanes of f64x2 (the Float64 outputs; the Float32 cache uses
// exp_cut below). n = round(x / ln 2), r = x - n ln 2 (Cody-Waite, |r| <= ln2 / 2), e^r by its
// Taylor polynomial of degree 12 (Horner; truncation r^13/13! < 1.7e-16, i.e. within a few ulps of
// exp); 2^n is applied in two factors so that results down to the subnormal range (x >= -745.1)
// are right (below: 0).
/** 2^n for integral n in [-1022, 1023] (lanes): (n + 1.5 * 2^52) holds n in its low bits; adding the
 * exponent bias and shifting it into the exponent field drops every other bit. */
static inline f64x2 pow2i(f64x2 n) {
  v128_t bits = wasm_f64x2_add(n, wasm_f64x2_splat(6755399441055744.0));
  return wasm_i64x2_shl(wasm_i64x2_add(bits, wasm_i64x2_splat(1023)), 52);
}

static inline f64x2 exp_core(f64x2 x) {
  x = wasm_f64x2_pmax(x, wasm_f64x2_splat(-746.0));
  f64x2 n = wasm_f64x2_nearest(wasm_f64x2_mul(x, wasm_f64x2_splat(LOG2E)));
  f64x2 r = wasm_f64x2_sub(x, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_HI)));
  r = wasm_f64x2_sub(r, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_LO)));
  f64x2 p = wasm_f64x2_splat(1.0 / 479001600.0);
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 39916800.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 3628800.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 362880.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 40320.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 5040.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 720.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 120.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 24.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0 / 6.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(0.5));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0));
  p = wasm_f64x2_add(wasm_f64x2_mul(p, r), wasm_f64x2_splat(1.0));
  // n in [-1077, 0]: 2^n = 2^n1 * 2^n2 with n1 = floor(n / 2) (both factors are normal doubles).
  f64x2 n1 = wasm_f64x2_floor(wasm_f64x2_mul(n, wasm_f64x2_splat(0.5)));
  return wasm_f64x2_mul(wasm_f64x2_mul(p, pow2i(n1)), pow2i(wasm_f64x2_sub(n, n1)));
}

// exp(x) for x <= 0 (and -inf) in the NLL passes: exactly 0 below -708 (where Math.exp gives at
// most 3.3e-308: an absolute difference no sum >= 1 and no moment can see; masked -inf entries
// give exactly 0), so 2^n is one normal factor formed by the rounding constant (t = x log2(e) +
// 1.5 * 2^52 + 1023 holds n + 1023 in its low bits). The same reduction and degree-12 Taylor
// polynomial as exp_core (max relative error 4.4e-16 measured against Math.exp on 2^20 points of
// [-690, 0]), evaluated by Estrin's scheme (a dependency chain of 5 multiply-adds instead of 12):
// measured 1.3-2x faster than exp_core in a row-sum loop.
static inline f64x2 exp_nll(f64x2 x) {
  v128_t keep = wasm_f64x2_ge(x, wasm_f64x2_splat(-708.0));
  x = wasm_f64x2_pmax(x, wasm_f64x2_splat(-708.0));
  f64x2 t = wasm_f64x2_add(wasm_f64x2_mul(x, wasm_f64x2_splat(LOG2E)), wasm_f64x2_splat(6755399441055744.0 + 1023.0));
  f64x2 n = wasm_f64x2_sub(t, wasm_f64x2_splat(6755399441055744.0 + 1023.0));
  f64x2 r = wasm_f64x2_sub(x, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_HI)));
  r = wasm_f64x2_sub(r, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2_LO)));
  f64x2 r2 = wasm_f64x2_mul(r, r), r4 = wasm_f64x2_mul(r2, r2), r8 = wasm_f64x2_mul(r4, r4);
#define SPLAT(c) wasm_f64x2_splat(c)
#define MULADD(a, b, c) wasm_f64x2_add(a, wasm_f64x2_mul(b, c))
  f64x2 p01 = MULADD(SPLAT(1.0), r, SPLAT(1.0));
  f64x2 p23 = MULADD(SPLAT(1.0 / 2), r, SPLAT(1.0 / 6));
  f64x2 p45 = MULADD(SPLAT(1.0 / 24), r, SPLAT(1.0 / 120));
  f64x2 p67 = MULADD(SPLAT(1.0 / 720), r, SPLAT(1.0 / 5040));
  f64x2 p89 = MULADD(SPLAT(1.0 / 40320), r, SPLAT(1.0 / 362880));
  f64x2 p1011 = MULADD(SPLAT(1.0 / 3628800), r, SPLAT(1.0 / 39916800));
  f64x2 p03 = MULADD(p01, r2, p23);
  f64x2 p47 = MULADD(p45, r2, p67);
  f64x2 p811 = MULADD(MULADD(p89, r2, p1011), r4, SPLAT(1.0 / 479001600));
  f64x2 p = MULADD(MULADD(p03, r4, p47), r8, p811);
#undef SPLAT
#undef MULADD
  return wasm_v128_and(wasm_f64x2_mul(p, wasm_i64x2_shl(t, 52)), keep);
}

static inline double exp_nll_scalar(double x) { return wasm_f64x2_extract_lane(exp_nll(wasm_f64x2_splat(x)), 0); }

static inline double hsum(f64x2 v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

static inline double exp_scalar(double x) { return wasm_f64x2_extract_lane(exp_core(wasm_f64x2_splat(x)), 0); }

// ---------------------------------------------------------------------------------------------
// Exp-shift fill: rowMax[i] = beta * max_k z_ik, E_ik = exp(beta z_ik - rowMax[i]), rowSum[i] =
// sum_k E_ik; Float32 E: 0 below -64 (exp_cut). mass[k] += E_ik / rowSum[i] if mass. Returns the
// first row holding a NaN or +-Infinity, or with every entry -Infinity (where some x is NaN), or
// rows: the input validation is fused into the fill.

/** Row maximum in the input precision (exact; NaN entries are skipped like `v > m` skips them). */
static double row_max_float(const float *z, int cols) {
  v128_t m0 = wasm_f32x4_splat(-__builtin_inff()), m1 = m0, m2 = m0, m3 = m0;
  int k = 0;
  for (; k + 15 < cols; k += 16) {
    m0 = wasm_f32x4_pmax(m0, wasm_v128_load(z + k));
    m1 = wasm_f32x4_pmax(m1, wasm_v128_load(z + k + 4));
    m2 = wasm_f32x4_pmax(m2, wasm_v128_load(z + k + 8));
    m3 = wasm_f32x4_pmax(m3, wasm_v128_load(z + k + 12));
  }
  for (; k + 3 < cols; k += 4) m0 = wasm_f32x4_pmax(m0, wasm_v128_load(z + k));
  m0 = wasm_f32x4_pmax(wasm_f32x4_pmax(m0, m1), wasm_f32x4_pmax(m2, m3));
  float m = wasm_f32x4_extract_lane(m0, 0), v1 = wasm_f32x4_extract_lane(m0, 1);
  float v2 = wasm_f32x4_extract_lane(m0, 2), v3 = wasm_f32x4_extract_lane(m0, 3);
  m = v1 > m ? v1 : m;
  m = v2 > m ? v2 : m;
  m = v3 > m ? v3 : m;
  for (; k < cols; k++) m = z[k] > m ? z[k] : m;
  return (double)m;
}

static double row_max_double(const double *z, int cols) {
  f64x2 m0 = wasm_f64x2_splat(-__builtin_inf()), m1 = m0;
  int k = 0;
  for (; k + 3 < cols; k += 4) {
    m0 = wasm_f64x2_pmax(m0, wasm_v128_load(z + k));
    m1 = wasm_f64x2_pmax(m1, wasm_v128_load(z + k + 2));
  }
  m0 = wasm_f64x2_pmax(m0, m1);
  double a = wasm_f64x2_extract_lane(m0, 0), b = wasm_f64x2_extract_lane(m0, 1);
  double m = b > a ? b : a;
  for (; k < cols; k++) m = z[k] > m ? z[k] : m;
  return m;
}

static inline f64x2 load2_float(const float *p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }
static inline f64x2 load2_double(const double *p) { return wasm_v128_load(p); }

/** Four consecutive entries as two f64x2 (lanes 0-1 and 2-3). */
static inline void load4_float(const float *p, f64x2 *lo, f64x2 *hi) {
  v128_t v = wasm_v128_load(p);
  *lo = wasm_f64x2_promote_low_f32x4(v);
  *hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
}
static inline void load4_double(const double *p, f64x2 *lo, f64x2 *hi) {
  *lo = wasm_v128_load(p);
  *hi = wasm_v128_load(p + 2);
}

// exp(x) for the Float32 cache: x <= 0 (or -inf / NaN); 0 where !(x >= -64). With
// t = x log2(e) + (1.5 * 2^52 + 1023) the rounding of the addition gives n = nearest(x log2 e) in
// t's low mantissa bits (plus the exponent bias: shifting them into the exponent field gives 2^n,
// n in [-93, 0]); r = x - n ln2 (|r| <= ln2 / 2 + 1e-14, error < 1e-14); e^r by a degree-7
// near-minimax polynomial (Chebyshev fit, Estrin): relative error < 6e-11 on [-ln2/2, ln2/2]
// (checked on a dense grid), far below the Float32 rounding (6e-8) that follows.
#define EXP_MAGIC (6755399441055744.0 + 1023.0)
#define LN2 0.6931471805599453
static inline f64x2 exp_cut(f64x2 x) {
  f64x2 t = wasm_f64x2_add(wasm_f64x2_mul(x, wasm_f64x2_splat(LOG2E)), wasm_f64x2_splat(EXP_MAGIC));
  f64x2 n = wasm_f64x2_sub(t, wasm_f64x2_splat(EXP_MAGIC));
  f64x2 r = wasm_f64x2_sub(x, wasm_f64x2_mul(n, wasm_f64x2_splat(LN2)));
  f64x2 r2 = wasm_f64x2_mul(r, r);
  f64x2 p01 = wasm_f64x2_add(wasm_f64x2_splat(0.9999999999595618), wasm_f64x2_mul(r, wasm_f64x2_splat(0.999999999995509)));
  f64x2 p23 = wasm_f64x2_add(wasm_f64x2_splat(0.5000000107729166), wasm_f64x2_mul(r, wasm_f64x2_splat(0.16666666786308587)));
  f64x2 p45 = wasm_f64x2_add(wasm_f64x2_splat(0.041666218319291945), wasm_f64x2_mul(r, wasm_f64x2_splat(0.008333283538708528)));
  f64x2 p67 = wasm_f64x2_add(wasm_f64x2_splat(0.0013948578326459795), wasm_f64x2_mul(r, wasm_f64x2_splat(0.00019907569310848288)));
  f64x2 p03 = wasm_f64x2_add(p01, wasm_f64x2_mul(r2, p23));
  f64x2 p47 = wasm_f64x2_add(p45, wasm_f64x2_mul(r2, p67));
  f64x2 p = wasm_f64x2_add(p03, wasm_f64x2_mul(wasm_f64x2_mul(r2, r2), p47));
  f64x2 e = wasm_f64x2_mul(p, wasm_i64x2_shl(t, 52));
  return wasm_v128_and(e, wasm_f64x2_ge(x, wasm_f64x2_splat(-64.0)));
}

static inline v128_t is_nan(f64x2 x) { return wasm_f64x2_ne(x, x); }

#define FILL32(TZ)                                                                                                \
  int fill_##TZ##_float(const TZ *z, int rows, int cols, double beta, float *E, double *rowMax, double *rowSum,  \
                        double *mass) {                                                                           \
    f64x2 vb = wasm_f64x2_splat(beta);                                                                          \
    for (int i = 0; i < rows; i++) {                                                                            \
      const TZ *zi = z + (long)i * cols;                                                                        \
      float *ei = E + (long)i * cols;                                                                           \
      double m = row_max_##TZ(zi, cols) * beta;                                                                 \
      rowMax[i] = m;                                                                                            \
      f64x2 vm = wasm_f64x2_splat(m);                                                                           \
      f64x2 acc0 = wasm_f64x2_splat(0), acc1 = acc0;                                                            \
      v128_t nan = wasm_i32x4_splat(0);                                                                         \
      int k = 0;                                                                                                \
      for (; k + 3 < cols; k += 4) {                                                                            \
        f64x2 z0, z1;                                                                                           \
        load4_##TZ(zi + k, &z0, &z1);                                                                           \
        f64x2 x0 = wasm_f64x2_sub(wasm_f64x2_mul(z0, vb), vm), x1 = wasm_f64x2_sub(wasm_f64x2_mul(z1, vb), vm);  \
        nan = wasm_v128_or(nan, wasm_v128_or(is_nan(x0), is_nan(x1)));                                          \
        v128_t d0 = wasm_f32x4_demote_f64x2_zero(exp_cut(x0)), d1 = wasm_f32x4_demote_f64x2_zero(exp_cut(x1));   \
        wasm_v128_store(ei + k, wasm_i32x4_shuffle(d0, d1, 0, 1, 4, 5));                                        \
        acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(d0));                                          \
        acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(d1));                                          \
      }                                                                                                         \
      double s = hsum(wasm_f64x2_add(acc0, acc1));                                                              \
      for (; k < cols; k++) {                                                                                   \
        double x = (double)zi[k] * beta - m;                                                                    \
        if (x != x) return i;                                                                                   \
        ei[k] = (float)wasm_f64x2_extract_lane(exp_cut(wasm_f64x2_splat(x)), 0);                                \
        s += (double)ei[k];                                                                                     \
      }                                                                                                         \
      if (wasm_v128_any_true(nan)) return i;                                                                    \
      rowSum[i] = s;                                                                                            \
      if (mass) {                                                                                               \
        f64x2 r = wasm_f64x2_splat(1.0 / s);                                                                    \
        int k2 = 0;                                                                                             \
        for (; k2 + 3 < cols; k2 += 4) {                                                                        \
          f64x2 e0, e1;                                                                                         \
          load4_float(ei + k2, &e0, &e1);                                                                       \
          wasm_v128_store(mass + k2, wasm_f64x2_add(wasm_v128_load(mass + k2), wasm_f64x2_mul(e0, r)));          \
          wasm_v128_store(mass + k2 + 2, wasm_f64x2_add(wasm_v128_load(mass + k2 + 2), wasm_f64x2_mul(e1, r)));  \
        }                                                                                                       \
        for (; k2 < cols; k2++) mass[k2] += (double)ei[k2] * (1.0 / s);                                         \
      }                                                                                                         \
    }                                                                                                           \
    return rows;                                                                                                \
  }
FILL32(float)
FILL32(double)

// Float64 E: exp_core of degree 12 (within a few ulps of exp, no cut-off).
#define FILL64(TZ)                                                                                                \
  int fill_##TZ##_double(const TZ *z, int rows, int cols, double beta, double *E, double *rowMax, double *rowSum, \
                         double *mass) {                                                                          \
    f64x2 vb = wasm_f64x2_splat(beta);                                                                          \
    for (int i = 0; i < rows; i++) {                                                                            \
      const TZ *zi = z + (long)i * cols;                                                                        \
      double *ei = E + (long)i * cols;                                                                          \
      double m = row_max_##TZ(zi, cols) * beta;                                                                 \
      rowMax[i] = m;                                                                                            \
      f64x2 vm = wasm_f64x2_splat(m);                                                                           \
      f64x2 acc = wasm_f64x2_splat(0);                                                                          \
      v128_t nan = wasm_i32x4_splat(0);                                                                         \
      int k = 0;                                                                                                \
      for (; k + 1 < cols; k += 2) {                                                                            \
        f64x2 x = wasm_f64x2_sub(wasm_f64x2_mul(load2_##TZ(zi + k), vb), vm);                                   \
        nan = wasm_v128_or(nan, is_nan(x));                                                                     \
        f64x2 e = exp_core(x);                                                                              \
        wasm_v128_store(ei + k, e);                                                                             \
        acc = wasm_f64x2_add(acc, e);                                                                           \
      }                                                                                                         \
      double s = hsum(acc);                                                                                     \
      for (; k < cols; k++) {                                                                                   \
        double x = (double)zi[k] * beta - m;                                                                    \
        if (x != x) return i;                                                                                   \
        ei[k] = exp_scalar(x);                                                                              \
        s += ei[k];                                                                                             \
      }                                                                                                         \
      if (wasm_v128_any_true(nan)) return i;                                                                    \
      rowSum[i] = s;                                                                                            \
      if (mass) {                                                                                               \
        f64x2 r = wasm_f64x2_splat(1.0 / s);                                                                    \
        int k2 = 0;                                                                                             \
        for (; k2 + 1 < cols; k2 += 2)                                                                          \
          wasm_v128_store(mass + k2, wasm_f64x2_add(wasm_v128_load(mass + k2), wasm_f64x2_mul(wasm_v128_load(ei + k2), r))); \
        for (; k2 < cols; k2++) mass[k2] += ei[k2] / s * 1.0;                                                   \
      }                                                                                                         \
    }                                                                                                           \
    return rows;                                                                                                \
  }
FILL64(float)
FILL64(double)

// ---------------------------------------------------------------------------------------------
// Mass pass: rowSum[i] = s_i = sum_k E_ik w_k; mass[k] += E_ik / s_i; sq[k] += (E_ik / s_i)^2.
// Four rows per sweep of w, mass and sq (each loaded and stored once per four rows; measured 30 %
// faster than two rows at 50,000 x 1,000), then single rows.

/** s += x * w over both halves of four entries (one f64x2 accumulator per half). */
#define DOT4(TE, p, s0, s1)                                 \
  {                                                         \
    f64x2 x0, x1;                                           \
    load4_##TE(p, &x0, &x1);                                \
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(x0, w0));        \
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(x1, w1));        \
  }

#define MASS(TE)                                                                                                   \
  void mass_##TE(const TE *E, int rows, int cols, const double *w, double *rowSum, double *mass, double *sq) {   \
    int i = 0;                                                                                                     \
    for (; i + 3 < rows; i += 4) {                                                                                 \
      const TE *a = E + (long)i * cols, *b = a + cols, *c = b + cols, *d = c + cols;                               \
      f64x2 sa0 = wasm_f64x2_splat(0), sa1 = sa0, sb0 = sa0, sb1 = sa0, sc0 = sa0, sc1 = sa0, sd0 = sa0, sd1 = sa0; \
      int k = 0;                                                                                                   \
      for (; k + 3 < cols; k += 4) {                                                                               \
        f64x2 w0 = wasm_v128_load(w + k), w1 = wasm_v128_load(w + k + 2);                                          \
        DOT4(TE, a + k, sa0, sa1)                                                                                  \
        DOT4(TE, b + k, sb0, sb1)                                                                                  \
        DOT4(TE, c + k, sc0, sc1)                                                                                  \
        DOT4(TE, d + k, sd0, sd1)                                                                                  \
      }                                                                                                            \
      double sa = hsum(wasm_f64x2_add(sa0, sa1)), sb = hsum(wasm_f64x2_add(sb0, sb1));                             \
      double sc = hsum(wasm_f64x2_add(sc0, sc1)), sd = hsum(wasm_f64x2_add(sd0, sd1));                             \
      for (; k < cols; k++) {                                                                                      \
        sa += (double)a[k] * w[k];                                                                                 \
        sb += (double)b[k] * w[k];                                                                                 \
        sc += (double)c[k] * w[k];                                                                                 \
        sd += (double)d[k] * w[k];                                                                                 \
      }                                                                                                            \
      rowSum[i] = sa;                                                                                              \
      rowSum[i + 1] = sb;                                                                                          \
      rowSum[i + 2] = sc;                                                                                          \
      rowSum[i + 3] = sd;                                                                                          \
      double ra = 1.0 / sa, rb = 1.0 / sb, rc = 1.0 / sc, rd = 1.0 / sd;                                           \
      f64x2 va = wasm_f64x2_splat(ra), vb = wasm_f64x2_splat(rb), vc = wasm_f64x2_splat(rc), vd = wasm_f64x2_splat(rd); \
      for (k = 0; k + 3 < cols; k += 4) {                                                                          \
        f64x2 a0, a1, b0, b1, c0, c1, d0, d1;                                                                      \
        load4_##TE(a + k, &a0, &a1);                                                                               \
        load4_##TE(b + k, &b0, &b1);                                                                               \
        load4_##TE(c + k, &c0, &c1);                                                                               \
        load4_##TE(d + k, &d0, &d1);                                                                               \
        a0 = wasm_f64x2_mul(a0, va);                                                                               \
        a1 = wasm_f64x2_mul(a1, va);                                                                               \
        b0 = wasm_f64x2_mul(b0, vb);                                                                               \
        b1 = wasm_f64x2_mul(b1, vb);                                                                               \
        c0 = wasm_f64x2_mul(c0, vc);                                                                               \
        c1 = wasm_f64x2_mul(c1, vc);                                                                               \
        d0 = wasm_f64x2_mul(d0, vd);                                                                               \
        d1 = wasm_f64x2_mul(d1, vd);                                                                               \
        f64x2 u0 = wasm_f64x2_add(wasm_f64x2_add(a0, b0), wasm_f64x2_add(c0, d0));                                 \
        f64x2 u1 = wasm_f64x2_add(wasm_f64x2_add(a1, b1), wasm_f64x2_add(c1, d1));                                 \
        wasm_v128_store(mass + k, wasm_f64x2_add(wasm_v128_load(mass + k), u0));                                   \
        wasm_v128_store(mass + k + 2, wasm_f64x2_add(wasm_v128_load(mass + k + 2), u1));                           \
        if (sq) {                                                                                                  \
          f64x2 q0 = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a0, a0), wasm_f64x2_mul(b0, b0)),               \
                                    wasm_f64x2_add(wasm_f64x2_mul(c0, c0), wasm_f64x2_mul(d0, d0)));              \
          f64x2 q1 = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a1, a1), wasm_f64x2_mul(b1, b1)),               \
                                    wasm_f64x2_add(wasm_f64x2_mul(c1, c1), wasm_f64x2_mul(d1, d1)));              \
          wasm_v128_store(sq + k, wasm_f64x2_add(wasm_v128_load(sq + k), q0));                                     \
          wasm_v128_store(sq + k + 2, wasm_f64x2_add(wasm_v128_load(sq + k + 2), q1));                             \
        }                                                                                                          \
      }                                                                                                            \
      for (; k < cols; k++) {                                                                                      \
        double ua = (double)a[k] * ra, ub = (double)b[k] * rb, uc = (double)c[k] * rc, ud = (double)d[k] * rd;   \
        mass[k] += (ua + ub) + (uc + ud);                                                                          \
        if (sq) sq[k] += (ua * ua + ub * ub) + (uc * uc + ud * ud);                                                \
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
        acc = wasm_f64x2_add(acc, exp_core(wasm_f64x2_sub(wasm_f64x2_mul(load2_##TZ(zi + k), vb), vm))); \
      double s = hsum(acc);                                                               \
      for (; k < cols; k++) s += exp_scalar((double)zi[k] * beta - m);                \
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
// scratch: cols doubles. exp: exp_nll (0 below -708).

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
        f64x2 v = wasm_v128_and(exp_nll(wasm_f64x2_mul(u, vb)), live);                                \
        wasm_v128_store(scratch + k, v);                                                                   \
        s = wasm_f64x2_add(s, v);                                                                          \
        s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(v, u));                                                     \
      }                                                                                                    \
      double ss = hsum(s), ss1 = hsum(s1);                                                                 \
      for (; k < cols; k++) {                                                                              \
        double zz = (double)zi[k];                                                                         \
        double v = zz == -__builtin_inf() ? 0.0 : exp_nll_scalar(beta * (zz - m));                         \
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
// Two-term ensemble NLL: per row l_k = (a f_k + b d_k) + off_k (without d: a f_k + off_k; the
// caller passes a zero offset when there is none: adding +0 changes no comparison and no exp),
// kept in scratch; m = max l (exact), s = sum exp(l_k - m) (a masked l = -inf gives exactly 0);
// rowMax[i] = m, rowSum[i] = s, labelLogit[i] = l_y (the caller forms (m + log s) - l_y).
// out[0] += rows whose first maximum is the label. With derivs, the moments of u = f - f_y and
// w = d - d_y over the live entries (l != -inf) give out[1..5] += sum_i E[u], E[w], Var[u],
// Cov[u, w], Var[w]. scratch: cols + 2 doubles.

#define ENSEMBLE(NAME, TF, TD, HASD)                                                                        \
  void NAME(const TF *f, const TD *d, int rows, int cols, const int32_t *labels, double a, double b,        \
            const double *offset, int derivs, double *rowMax, double *rowSum, double *labelLogit, double *out, \
            double *scratch) {                                                                              \
    f64x2 va = wasm_f64x2_splat(a), vb = wasm_f64x2_splat(b);                                               \
    f64x2 ninf = wasm_f64x2_splat(-__builtin_inf());                                                        \
    double correct = 0, gA = 0, gB = 0, hAA = 0, hAB = 0, hBB = 0;                                          \
    for (int i = 0; i < rows; i++) {                                                                        \
      const TF *fi = f + (long)i * cols;                                                                    \
      const TD *di = d + (long)i * cols;                                                                    \
      f64x2 m0 = ninf, m1 = ninf;                                                                           \
      int k = 0;                                                                                            \
      for (; k + 3 < cols; k += 4) {                                                                        \
        f64x2 l0 = wasm_f64x2_mul(load2_##TF(fi + k), va), l1 = wasm_f64x2_mul(load2_##TF(fi + k + 2), va); \
        if (HASD) {                                                                                         \
          l0 = wasm_f64x2_add(l0, wasm_f64x2_mul(load2_##TD(di + k), vb));                                  \
          l1 = wasm_f64x2_add(l1, wasm_f64x2_mul(load2_##TD(di + k + 2), vb));                              \
        }                                                                                                   \
        l0 = wasm_f64x2_add(l0, wasm_v128_load(offset + k));                                                \
        l1 = wasm_f64x2_add(l1, wasm_v128_load(offset + k + 2));                                            \
        wasm_v128_store(scratch + k, l0);                                                                   \
        wasm_v128_store(scratch + k + 2, l1);                                                               \
        m0 = wasm_f64x2_pmax(m0, l0);                                                                       \
        m1 = wasm_f64x2_pmax(m1, l1);                                                                       \
      }                                                                                                     \
      m0 = wasm_f64x2_pmax(m0, m1);                                                                         \
      double m0a = wasm_f64x2_extract_lane(m0, 0), m0b = wasm_f64x2_extract_lane(m0, 1);                    \
      double m = m0b > m0a ? m0b : m0a;                                                                     \
      for (; k < cols; k++) {                                                                               \
        double v = a * (double)fi[k];                                                                       \
        if (HASD) v += b * (double)di[k];                                                                   \
        v += offset[k];                                                                                     \
        scratch[k] = v;                                                                                     \
        m = v > m ? v : m;                                                                                  \
      }                                                                                                     \
      int y = labels[i];                                                                                    \
      double ly = scratch[y];                                                                               \
      if (ly == m) {                                                                                        \
        /* the label is a maximum: correct unless an earlier entry equals it */                            \
        f64x2 vm = wasm_f64x2_splat(m);                                                                     \
        v128_t tie = wasm_i32x4_splat(0);                                                                   \
        int j = 0;                                                                                          \
        for (; j + 1 < y; j += 2) tie = wasm_v128_or(tie, wasm_f64x2_eq(wasm_v128_load(scratch + j), vm));  \
        int earlier = wasm_v128_any_true(tie);                                                              \
        for (; j < y; j++) earlier |= scratch[j] == m;                                                      \
        if (!earlier) correct += 1;                                                                         \
      }                                                                                                     \
      f64x2 vm = wasm_f64x2_splat(m);                                                                       \
      f64x2 s0 = wasm_f64x2_splat(0), s1 = s0;                                                              \
      k = 0;                                                                                                \
      if (!derivs) {                                                                                        \
        for (; k + 3 < cols; k += 4) {                                                                      \
          s0 = wasm_f64x2_add(s0, exp_nll(wasm_f64x2_sub(wasm_v128_load(scratch + k), vm)));               \
          s1 = wasm_f64x2_add(s1, exp_nll(wasm_f64x2_sub(wasm_v128_load(scratch + k + 2), vm)));           \
        }                                                                                                   \
        double s = hsum(wasm_f64x2_add(s0, s1));                                                            \
        for (; k < cols; k++) s += scratch[k] == -__builtin_inf() ? 0.0 : exp_nll_scalar(scratch[k] - m);                                            \
        rowSum[i] = s;                                                                                      \
      } else {                                                                                              \
        f64x2 fy = wasm_f64x2_splat((double)fi[y]);                                                         \
        f64x2 dy = wasm_f64x2_splat(HASD ? (double)di[y] : 0.0);                                            \
        f64x2 su = wasm_f64x2_splat(0), sw = su, suu = su, sww = su, suw = su;                              \
        for (; k + 1 < cols; k += 2) {                                                                      \
          f64x2 l = wasm_v128_load(scratch + k);                                                            \
          f64x2 live = wasm_f64x2_ne(l, ninf);                                                              \
          f64x2 e = wasm_v128_and(exp_nll(wasm_f64x2_sub(l, vm)), live);                                   \
          s0 = wasm_f64x2_add(s0, e);                                                                       \
          f64x2 u = wasm_v128_and(wasm_f64x2_sub(load2_##TF(fi + k), fy), live);                            \
          f64x2 eu = wasm_f64x2_mul(e, u);                                                                  \
          su = wasm_f64x2_add(su, eu);                                                                      \
          suu = wasm_f64x2_add(suu, wasm_f64x2_mul(eu, u));                                                 \
          if (HASD) {                                                                                       \
            f64x2 w = wasm_v128_and(wasm_f64x2_sub(load2_##TD(di + k), dy), live);                          \
            f64x2 ew = wasm_f64x2_mul(e, w);                                                                \
            sw = wasm_f64x2_add(sw, ew);                                                                    \
            sww = wasm_f64x2_add(sww, wasm_f64x2_mul(ew, w));                                               \
            suw = wasm_f64x2_add(suw, wasm_f64x2_mul(eu, w));                                               \
          }                                                                                                 \
        }                                                                                                   \
        double s = hsum(s0), ssu = hsum(su), ssw = hsum(sw), ssuu = hsum(suu), ssww = hsum(sww);            \
        double ssuw = hsum(suw);                                                                            \
        for (; k < cols; k++) {                                                                             \
          double l = scratch[k];                                                                            \
          double e = l == -__builtin_inf() ? 0.0 : exp_nll_scalar(l - m);                                                                \
          s += e;                                                                                           \
          if (l == -__builtin_inf()) continue;                                                              \
          double u = (double)fi[k] - (double)fi[y];                                                         \
          ssu += e * u;                                                                                     \
          ssuu += e * u * u;                                                                                \
          if (HASD) {                                                                                       \
            double w = (double)di[k] - (double)di[y];                                                       \
            ssw += e * w;                                                                                   \
            ssww += e * w * w;                                                                              \
            ssuw += e * u * w;                                                                              \
          }                                                                                                 \
        }                                                                                                   \
        double mu = ssu / s, mw = ssw / s;                                                                  \
        gA += mu;                                                                                           \
        gB += mw;                                                                                           \
        hAA += ssuu / s - mu * mu;                                                                          \
        hBB += ssww / s - mw * mw;                                                                          \
        hAB += ssuw / s - mu * mw;                                                                          \
        rowSum[i] = s;                                                                                      \
      }                                                                                                     \
      rowMax[i] = m;                                                                                        \
      labelLogit[i] = ly;                                                                                   \
    }                                                                                                       \
    out[0] += correct;                                                                                      \
    out[1] += gA;                                                                                           \
    out[2] += gB;                                                                                           \
    out[3] += hAA;                                                                                          \
    out[4] += hAB;                                                                                          \
    out[5] += hBB;                                                                                          \
  }
ENSEMBLE(ensemble_float, float, double, 0)
ENSEMBLE(ensemble_double, double, double, 0)
ENSEMBLE(ensemble_float_float, float, float, 1)
ENSEMBLE(ensemble_float_double, float, double, 1)
ENSEMBLE(ensemble_double_float, double, float, 1)
ENSEMBLE(ensemble_double_double, double, double, 1)

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

// ---------------------------------------------------------------------------------------------
// Fused probe evaluation over a block of m training rows (the probeSession kernel): with
// z_i = W x_i + b (C x D head W, D-dimensional rows x_i) and p_i = softmax(z_i),
//   rowMax[i] = max_c z_ic, rowSum[i] = sum_c exp(z_ic - rowMax[i]),
//   gb[c] += sum_i w_i p_ic (Float64),   G[c, :] += sum_i w_i p_ic x_i (Float64 accumulator),
// Z: m x C Float64 scratch (overwritten with r_ic = w_i p_ic). probe_ff: Float32 rows and head,
// Float32 products summed in Float32 over d and over the block's rows (the Float32 phase, like a
// Float32 GEMM); probe_fd / probe_dd: Float32 / Float64 rows, Float64 head and sums.

static inline float hsum4(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/** z_i = W x_i + b for the block, Float32 products: 4 rows x 2 classes per tile. */
static void probe_logits_ff(const float *X, int m, int D, int C, const float *W, const double *b, double *Z) {
  int i = 0;
  for (; i + 3 < m; i += 4) {
    const float *x0 = X + (long)i * D, *x1 = x0 + D, *x2 = x1 + D, *x3 = x2 + D;
    int c = 0;
    for (; c + 1 < C; c += 2) {
      const float *w0 = W + (long)c * D, *w1 = w0 + D;
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      int d = 0;
      for (; d + 3 < D; d += 4) {
        v128_t a0 = wasm_v128_load(w0 + d), a1 = wasm_v128_load(w1 + d);
        v128_t v0 = wasm_v128_load(x0 + d), v1 = wasm_v128_load(x1 + d), v2 = wasm_v128_load(x2 + d), v3 = wasm_v128_load(x3 + d);
        s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(v0, a0));
        s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(v0, a1));
        s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(v1, a0));
        s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(v1, a1));
        s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(v2, a0));
        s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(v2, a1));
        s30 = wasm_f32x4_add(s30, wasm_f32x4_mul(v3, a0));
        s31 = wasm_f32x4_add(s31, wasm_f32x4_mul(v3, a1));
      }
      float r00 = hsum4(s00), r01 = hsum4(s01), r10 = hsum4(s10), r11 = hsum4(s11);
      float r20 = hsum4(s20), r21 = hsum4(s21), r30 = hsum4(s30), r31 = hsum4(s31);
      for (; d < D; d++) {
        r00 += x0[d] * w0[d];
        r01 += x0[d] * w1[d];
        r10 += x1[d] * w0[d];
        r11 += x1[d] * w1[d];
        r20 += x2[d] * w0[d];
        r21 += x2[d] * w1[d];
        r30 += x3[d] * w0[d];
        r31 += x3[d] * w1[d];
      }
      double *z = Z + (long)i * C + c;
      z[0] = r00 + b[c];
      z[1] = r01 + b[c + 1];
      z[C] = r10 + b[c];
      z[C + 1] = r11 + b[c + 1];
      z[2 * C] = r20 + b[c];
      z[2 * C + 1] = r21 + b[c + 1];
      z[3 * C] = r30 + b[c];
      z[3 * C + 1] = r31 + b[c + 1];
    }
    for (; c < C; c++) {
      const float *w0 = W + (long)c * D;
      float r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      for (int d = 0; d < D; d++) {
        r0 += x0[d] * w0[d];
        r1 += x1[d] * w0[d];
        r2 += x2[d] * w0[d];
        r3 += x3[d] * w0[d];
      }
      Z[(long)i * C + c] = r0 + b[c];
      Z[(long)(i + 1) * C + c] = r1 + b[c];
      Z[(long)(i + 2) * C + c] = r2 + b[c];
      Z[(long)(i + 3) * C + c] = r3 + b[c];
    }
  }
  for (; i < m; i++) {
    const float *x0 = X + (long)i * D;
    for (int c = 0; c < C; c++) {
      const float *w0 = W + (long)c * D;
      v128_t s = wasm_f32x4_splat(0);
      int d = 0;
      for (; d + 3 < D; d += 4) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(x0 + d), wasm_v128_load(w0 + d)));
      float r = hsum4(s);
      for (; d < D; d++) r += x0[d] * w0[d];
      Z[(long)i * C + c] = r + b[c];
    }
  }
}

/** z_i = W x_i + b with Float64 products and sums (rows loaded by LOAD4 / LOAD1 of type TX). */
#define PROBE_LOGITS_D(NAME, TX, LOAD4, LOAD1)                                                                   \
  static void NAME(const TX *X, int m, int D, int C, const double *W, const double *b, double *Z) {              \
    int i = 0;                                                                                                   \
    for (; i + 1 < m; i += 2) {                                                                                  \
      const TX *x0 = X + (long)i * D, *x1 = x0 + D;                                                              \
      int c = 0;                                                                                                 \
      for (; c + 1 < C; c += 2) {                                                                                \
        const double *w0 = W + (long)c * D, *w1 = w0 + D;                                                        \
        f64x2 s00 = wasm_f64x2_splat(0), s01 = s00, s10 = s00, s11 = s00, t00 = s00, t01 = s00, t10 = s00, t11 = s00; \
        int d = 0;                                                                                               \
        for (; d + 3 < D; d += 4) {                                                                              \
          f64x2 a0l = wasm_v128_load(w0 + d), a0h = wasm_v128_load(w0 + d + 2);                                  \
          f64x2 a1l = wasm_v128_load(w1 + d), a1h = wasm_v128_load(w1 + d + 2);                                  \
          f64x2 v0l, v0h, v1l, v1h;                                                                              \
          LOAD4(x0 + d, &v0l, &v0h);                                                                             \
          LOAD4(x1 + d, &v1l, &v1h);                                                                             \
          s00 = wasm_f64x2_add(s00, wasm_f64x2_mul(v0l, a0l));                                                   \
          t00 = wasm_f64x2_add(t00, wasm_f64x2_mul(v0h, a0h));                                                   \
          s01 = wasm_f64x2_add(s01, wasm_f64x2_mul(v0l, a1l));                                                   \
          t01 = wasm_f64x2_add(t01, wasm_f64x2_mul(v0h, a1h));                                                   \
          s10 = wasm_f64x2_add(s10, wasm_f64x2_mul(v1l, a0l));                                                   \
          t10 = wasm_f64x2_add(t10, wasm_f64x2_mul(v1h, a0h));                                                   \
          s11 = wasm_f64x2_add(s11, wasm_f64x2_mul(v1l, a1l));                                                   \
          t11 = wasm_f64x2_add(t11, wasm_f64x2_mul(v1h, a1h));                                                   \
        }                                                                                                        \
        double r00 = hsum(wasm_f64x2_add(s00, t00)), r01 = hsum(wasm_f64x2_add(s01, t01));                      \
        double r10 = hsum(wasm_f64x2_add(s10, t10)), r11 = hsum(wasm_f64x2_add(s11, t11));                      \
        for (; d < D; d++) {                                                                                     \
          double u0 = LOAD1(x0 + d), u1 = LOAD1(x1 + d);                                                         \
          r00 += u0 * w0[d];                                                                                     \
          r01 += u0 * w1[d];                                                                                     \
          r10 += u1 * w0[d];                                                                                     \
          r11 += u1 * w1[d];                                                                                     \
        }                                                                                                        \
        double *z = Z + (long)i * C + c;                                                                         \
        z[0] = r00 + b[c];                                                                                       \
        z[1] = r01 + b[c + 1];                                                                                   \
        z[C] = r10 + b[c];                                                                                       \
        z[C + 1] = r11 + b[c + 1];                                                                               \
      }                                                                                                          \
      for (; c < C; c++) {                                                                                       \
        const double *w0 = W + (long)c * D;                                                                      \
        double r0 = 0, r1 = 0;                                                                                   \
        for (int d = 0; d < D; d++) {                                                                            \
          r0 += LOAD1(x0 + d) * w0[d];                                                                           \
          r1 += LOAD1(x1 + d) * w0[d];                                                                           \
        }                                                                                                        \
        Z[(long)i * C + c] = r0 + b[c];                                                                          \
        Z[(long)(i + 1) * C + c] = r1 + b[c];                                                                    \
      }                                                                                                          \
    }                                                                                                            \
    for (; i < m; i++) {                                                                                         \
      const TX *x0 = X + (long)i * D;                                                                            \
      for (int c = 0; c < C; c++) {                                                                              \
        const double *w0 = W + (long)c * D;                                                                      \
        double r = 0;                                                                                            \
        for (int d = 0; d < D; d++) r += LOAD1(x0 + d) * w0[d];                                                  \
        Z[(long)i * C + c] = r + b[c];                                                                           \
      }                                                                                                          \
    }                                                                                                            \
  }

static inline double load1_float(const float *p) { return (double)*p; }
static inline double load1_double(const double *p) { return *p; }
PROBE_LOGITS_D(probe_logits_fd, float, load4_float, load1_float)
PROBE_LOGITS_D(probe_logits_dd, double, load4_double, load1_double)

/** Softmax residuals in place: Z_ic <- w_i p_ic; rowMax, rowSum; gb += column sums (Float64). */
static void probe_softmax(double *Z, int m, int C, const double *w, double *rowMax, double *rowSum, double *gb) {
  for (int i = 0; i < m; i++) {
    double *z = Z + (long)i * C;
    double mx = row_max_double(z, C);
    f64x2 s2 = wasm_f64x2_splat(0);
    f64x2 M = wasm_f64x2_splat(mx);
    int c = 0;
    for (; c + 1 < C; c += 2) {
      f64x2 e = exp_nll(wasm_f64x2_sub(wasm_v128_load(z + c), M));
      wasm_v128_store(z + c, e);
      s2 = wasm_f64x2_add(s2, e);
    }
    double s = hsum(s2);
    for (; c < C; c++) {
      double e = exp_nll_scalar(z[c] - mx);
      z[c] = e;
      s += e;
    }
    rowMax[i] = mx;
    rowSum[i] = s;
    f64x2 f = wasm_f64x2_splat(w[i] / s);
    c = 0;
    for (; c + 1 < C; c += 2) {
      f64x2 r = wasm_f64x2_mul(wasm_v128_load(z + c), f);
      wasm_v128_store(z + c, r);
      wasm_v128_store(gb + c, wasm_f64x2_add(wasm_v128_load(gb + c), r));
    }
    for (; c < C; c++) {
      z[c] *= w[i] / s;
      gb[c] += z[c];
    }
  }
}

/** Adds the Float32 sums acc (4 lanes) to the Float64 g[0..3]. */
static inline void add4_to_double(double *g, v128_t acc) {
  wasm_v128_store(g, wasm_f64x2_add(wasm_v128_load(g), wasm_f64x2_promote_low_f32x4(acc)));
  wasm_v128_store(g + 2, wasm_f64x2_add(wasm_v128_load(g + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1))));
}

/**
 * G[c, :] += sum_i R_ic x_i, Float32 rows and products summed over the block in Float32; two
 * classes per sweep over the block's rows (16 columns of each in registers).
 */
static void probe_gradient_ff(const float *X, int m, int D, int C, const double *R, double *G) {
  int c = 0;
  for (; c + 1 < C; c += 2) {
    double *g0 = G + (long)c * D, *g1 = g0 + D;
    int d = 0;
    for (; d + 15 < D; d += 16) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (int i = 0; i < m; i++) {
        v128_t rq = wasm_f32x4_demote_f64x2_zero(wasm_v128_load(R + (long)i * C + c));
        v128_t r = wasm_i32x4_shuffle(rq, rq, 0, 0, 0, 0), q = wasm_i32x4_shuffle(rq, rq, 1, 1, 1, 1);
        const float *x = X + (long)i * D + d;
        v128_t x0 = wasm_v128_load(x), x1 = wasm_v128_load(x + 4), x2 = wasm_v128_load(x + 8), x3 = wasm_v128_load(x + 12);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(r, x0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(r, x1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(r, x2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(r, x3));
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q, x0));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(q, x1));
        b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(q, x2));
        b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(q, x3));
      }
      add4_to_double(g0 + d, a0);
      add4_to_double(g0 + d + 4, a1);
      add4_to_double(g0 + d + 8, a2);
      add4_to_double(g0 + d + 12, a3);
      add4_to_double(g1 + d, b0);
      add4_to_double(g1 + d + 4, b1);
      add4_to_double(g1 + d + 8, b2);
      add4_to_double(g1 + d + 12, b3);
    }
    for (; d < D; d++) {
      float a = 0, bb = 0;
      for (int i = 0; i < m; i++) {
        float x = X[(long)i * D + d];
        a += (float)R[(long)i * C + c] * x;
        bb += (float)R[(long)i * C + c + 1] * x;
      }
      g0[d] += a;
      g1[d] += bb;
    }
  }
  for (; c < C; c++) {
    double *g = G + (long)c * D;
    int d = 0;
    for (; d + 15 < D; d += 16) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int i = 0; i < m; i++) {
        v128_t r = wasm_f32x4_splat((float)R[(long)i * C + c]);
        const float *x = X + (long)i * D + d;
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(r, wasm_v128_load(x)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(r, wasm_v128_load(x + 4)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(r, wasm_v128_load(x + 8)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(r, wasm_v128_load(x + 12)));
      }
      add4_to_double(g + d, a0);
      add4_to_double(g + d + 4, a1);
      add4_to_double(g + d + 8, a2);
      add4_to_double(g + d + 12, a3);
    }
    for (; d < D; d++) {
      float a = 0;
      for (int i = 0; i < m; i++) a += (float)R[(long)i * C + c] * X[(long)i * D + d];
      g[d] += a;
    }
  }
}

/** G[c, :] += sum_i R_ic x_i in Float64 (rows of type TX); two classes per sweep over the rows. */
#define PROBE_GRADIENT_D(NAME, TX, LOAD4, LOAD1)                                                  \
  static void NAME(const TX *X, int m, int D, int C, const double *R, double *G) {                \
    int c = 0;                                                                                    \
    for (; c + 1 < C; c += 2) {                                                                   \
      double *g0 = G + (long)c * D, *g1 = g0 + D;                                                 \
      int d = 0;                                                                                  \
      for (; d + 7 < D; d += 8) {                                                                 \
        f64x2 a0 = wasm_f64x2_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
        for (int i = 0; i < m; i++) {                                                             \
          f64x2 rq = wasm_v128_load(R + (long)i * C + c);                                         \
          f64x2 r = wasm_i64x2_shuffle(rq, rq, 0, 0), q = wasm_i64x2_shuffle(rq, rq, 1, 1);       \
          const TX *x = X + (long)i * D + d;                                                      \
          f64x2 v0, v1, v2, v3;                                                                   \
          LOAD4(x, &v0, &v1);                                                                     \
          LOAD4(x + 4, &v2, &v3);                                                                 \
          a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(r, v0));                                         \
          a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(r, v1));                                         \
          a2 = wasm_f64x2_add(a2, wasm_f64x2_mul(r, v2));                                         \
          a3 = wasm_f64x2_add(a3, wasm_f64x2_mul(r, v3));                                         \
          b0 = wasm_f64x2_add(b0, wasm_f64x2_mul(q, v0));                                         \
          b1 = wasm_f64x2_add(b1, wasm_f64x2_mul(q, v1));                                         \
          b2 = wasm_f64x2_add(b2, wasm_f64x2_mul(q, v2));                                         \
          b3 = wasm_f64x2_add(b3, wasm_f64x2_mul(q, v3));                                         \
        }                                                                                         \
        wasm_v128_store(g0 + d, wasm_f64x2_add(wasm_v128_load(g0 + d), a0));                      \
        wasm_v128_store(g0 + d + 2, wasm_f64x2_add(wasm_v128_load(g0 + d + 2), a1));              \
        wasm_v128_store(g0 + d + 4, wasm_f64x2_add(wasm_v128_load(g0 + d + 4), a2));              \
        wasm_v128_store(g0 + d + 6, wasm_f64x2_add(wasm_v128_load(g0 + d + 6), a3));              \
        wasm_v128_store(g1 + d, wasm_f64x2_add(wasm_v128_load(g1 + d), b0));                      \
        wasm_v128_store(g1 + d + 2, wasm_f64x2_add(wasm_v128_load(g1 + d + 2), b1));              \
        wasm_v128_store(g1 + d + 4, wasm_f64x2_add(wasm_v128_load(g1 + d + 4), b2));              \
        wasm_v128_store(g1 + d + 6, wasm_f64x2_add(wasm_v128_load(g1 + d + 6), b3));              \
      }                                                                                           \
      for (; d < D; d++) {                                                                        \
        double a = 0, bb = 0;                                                                     \
        for (int i = 0; i < m; i++) {                                                             \
          double x = LOAD1(X + (long)i * D + d);                                                  \
          a += R[(long)i * C + c] * x;                                                            \
          bb += R[(long)i * C + c + 1] * x;                                                       \
        }                                                                                         \
        g0[d] += a;                                                                               \
        g1[d] += bb;                                                                              \
      }                                                                                           \
    }                                                                                             \
    for (; c < C; c++) {                                                                          \
      double *g = G + (long)c * D;                                                                \
      for (int d = 0; d < D; d++) {                                                               \
        double a = 0;                                                                             \
        for (int i = 0; i < m; i++) a += R[(long)i * C + c] * LOAD1(X + (long)i * D + d);         \
        g[d] += a;                                                                                \
      }                                                                                           \
    }                                                                                             \
  }

PROBE_GRADIENT_D(probe_gradient_fd, float, load4_float, load1_float)
PROBE_GRADIENT_D(probe_gradient_dd, double, load4_double, load1_double)

/** One block: logits, softmax residuals (rowMax, rowSum, gb) and G += R^T X. W is Float32 for probe_ff. */
void probe_ff(const float *X, int m, int D, int C, const float *W, const double *b, const double *w, double *Z, double *rowMax,
              double *rowSum, double *G, double *gb) {
  probe_logits_ff(X, m, D, C, W, b, Z);
  probe_softmax(Z, m, C, w, rowMax, rowSum, gb);
  probe_gradient_ff(X, m, D, C, Z, G);
}
void probe_fd(const float *X, int m, int D, int C, const double *W, const double *b, const double *w, double *Z, double *rowMax,
              double *rowSum, double *G, double *gb) {
  probe_logits_fd(X, m, D, C, W, b, Z);
  probe_softmax(Z, m, C, w, rowMax, rowSum, gb);
  probe_gradient_fd(X, m, D, C, Z, G);
}
void probe_dd(const double *X, int m, int D, int C, const double *W, const double *b, const double *w, double *Z, double *rowMax,
              double *rowSum, double *G, double *gb) {
  probe_logits_dd(X, m, D, C, W, b, Z);
  probe_softmax(Z, m, C, w, rowMax, rowSum, gb);
  probe_gradient_dd(X, m, D, C, Z, G);
}
