/**
 * Standard normal helpers for truncated Gaussians, stable far in the tails: log CDF, log of the mass between two
 * points, and inverse-CDF sampling of a normal truncated to [a, b].
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complementary error function (Chebyshev fit, fractional error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ(x), the standard normal CDF. */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** log Φ(x), accurate for very negative x (asymptotic series below -20). */
export function logNdtr(x: number): number {
  if (x > 6) return -ndtr(-x);
  if (x > -20) return Math.log(ndtr(x));
  const x2 = x * x;
  // log Φ(x) ≈ -x²/2 - log(-x) - log√(2π) + log(1 - 1/x² + 3/x⁴ - 15/x⁶)
  return -0.5 * x2 - Math.log(-x) - LOG_SQRT_2PI + Math.log1p(-1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2));
}

/** log(e^a - e^b) for a ≥ b. */
const logDiffExp = (a: number, b: number): number => (b === -Infinity ? a : a + Math.log1p(-Math.exp(b - a)));

/** log(Φ(b) - Φ(a)) for a ≤ b. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiffExp(logNdtr(b), logNdtr(a));
  if (a >= 0) return logDiffExp(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function ndtri(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pLow) return -ndtri(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * A draw from the standard normal truncated to [a, b], by inverting the CDF at u ∈ [0, 1). Works from whichever
 * tail keeps the probability small, so draws stay exact far from the mean.
 */
export function truncnormStd(a: number, b: number, u: number): number {
  if (a >= 0) return -truncnormStd(-b, -a, 1 - u);
  // a < 0: Φ(a) is not tiny relative to 1 unless a ≪ 0; go through the lower or upper tail.
  const pa = ndtr(a);
  const pb = ndtr(b);
  const p = pa + u * (pb - pa);
  if (p < 0.5) return clip(ndtri(p), a, b);
  const qb = ndtr(-b);
  const q = qb + (1 - u) * (pb - pa);
  return clip(-ndtri(q), a, b);
}

const clip = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** log of the standard normal density at z. */
export const logPhi = (z: number): number => -0.5 * z * z - LOG_SQRT_2PI;
