import { describe, expect, it } from 'vitest';
import { accuracy, calibrateTemperature, createRng, matrix, negativeLogLikelihood, softmax } from '../src/index';

function overconfident(seed: number, n: number, C: number) {
  const rng = createRng(seed);
  const data = new Float64Array(n * C);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(C);
    for (let c = 0; c < C; c++) data[i * C + c] = 5 * (rng.normal() + (c === labels[i] ? 1.5 : 0));
  }
  return { logits: matrix(data, n, C), labels };
}

function meanConfidence(logits: ReturnType<typeof matrix>, T: number): number {
  const p = softmax(logits, { temperature: T });
  let s = 0;
  for (let i = 0; i < logits.rows; i++) s += Math.max(...p.data.subarray(i * logits.cols, (i + 1) * logits.cols));
  return s / logits.rows;
}

describe('calibrateTemperature', () => {
  const { logits, labels } = overconfident(1, 2000, 10);

  it("'match-confidence': mean max-softmax confidence equals accuracy within 0.1 pp", () => {
    const T = calibrateTemperature(logits, labels, { method: 'match-confidence' });
    expect(T).toBeGreaterThan(1);
    expect(Math.abs(meanConfidence(logits, T) - accuracy(logits, labels))).toBeLessThanOrEqual(0.001);
    // Underconfident logits need T < 1 (bracket widened below 0.1 when necessary).
    const cold = matrix(
      logits.data.map((v) => v / 500),
      logits.rows,
      logits.cols,
    );
    const Tc = calibrateTemperature(cold, labels, { method: 'match-confidence' });
    expect(Tc).toBeLessThan(0.1);
    expect(Math.abs(meanConfidence(cold, Tc) - accuracy(cold, labels))).toBeLessThanOrEqual(0.001);
  });

  it("'nll': T matches a brute-force golden-section minimiser of the NLL", () => {
    const T = calibrateTemperature(logits, labels, { method: 'nll' });
    const f = (logT: number) => negativeLogLikelihood(logits, labels, { temperature: Math.exp(logT) });
    let a = Math.log(0.01);
    let b = Math.log(100);
    const g = (Math.sqrt(5) - 1) / 2;
    for (let i = 0; i < 200; i++) {
      const c = b - g * (b - a);
      const d = a + g * (b - a);
      if (f(c) < f(d)) b = d;
      else a = c;
    }
    const reference = Math.exp((a + b) / 2);
    expect(Math.abs(T - reference) / reference).toBeLessThan(1e-6);
    // Also the NLL at T is not above any point of a fine grid.
    for (let t = 0.5 * T; t <= 2 * T; t += T / 50) expect(f(Math.log(T))).toBeLessThanOrEqual(f(Math.log(t)) + 1e-15);
  });

  it('rejects logits that carry no information (no finite optimum)', () => {
    const flat = matrix(new Float64Array(20).fill(1), 10, 2);
    expect(() => calibrateTemperature(flat, new Int32Array(10), { method: 'nll' })).toThrowError(
      expect.objectContaining({ code: 'not-identifiable' }) as unknown as Error,
    );
    const separated = matrix(Float64Array.from([5, 0, 0, 5]), 2, 2);
    expect(() => calibrateTemperature(separated, [0, 1], { method: 'nll' })).toThrowError(
      expect.objectContaining({ code: 'not-identifiable' }) as unknown as Error,
    );
  });

  it("'nll': T scales with the logits (c z gives c T), also far below T = 1e-4 (a strongly regularised probe's logits)", () => {
    const T = calibrateTemperature(logits, labels, { method: 'nll' });
    for (const c of [1e-7, 1e-5, 1e-3, 10, 1000]) {
      const scaled = matrix(
        logits.data.map((v) => v * c),
        logits.rows,
        logits.cols,
      );
      const Tc = calibrateTemperature(scaled, labels, { method: 'nll' });
      expect(Math.abs(Tc / (c * T) - 1)).toBeLessThan(1e-9);
    }
    // Separated logits stay not identifiable at any scale.
    for (const c of [1e-6, 1, 1e6]) {
      const separated = matrix(Float64Array.from([5 * c, 0, 0, 5 * c]), 2, 2);
      expect(() => calibrateTemperature(separated, [0, 1], { method: 'nll' })).toThrowError(
        expect.objectContaining({ code: 'not-identifiable' }) as unknown as Error,
      );
    }
  });
});
