import { describe, expect, it } from 'vitest';
import {
  estimatePrior,
  getKernelBackend,
  type KernelBackend,
  kernelBackends,
  kernelConformanceCases,
  matrix,
  referenceKernels,
  registerKernels,
  resolveKernel,
  trainLinearProbe,
  unregisterKernels,
} from '../src/index';

describe('kernel conformance suite: reference backend', () => {
  const cases = kernelConformanceCases();
  it('covers every kernel, Float32 and Float64, one row, one class', () => {
    const kernels = new Set(cases.map((c) => c.kernel));
    expect([...kernels].sort()).toEqual([
      'ensembleNll',
      'expShiftFill',
      'firstNonFiniteRow',
      'gemmABt',
      'massPass',
      'rowLogSumExp',
      'selectAbove',
      'temperatureNll',
    ]);
    expect(cases.some((c) => c.name.includes('1 x 1'))).toBe(true);
    expect(cases.some((c) => c.name.includes('float32') && c.name.includes('float64'))).toBe(true);
    expect(cases.length).toBeGreaterThan(100);
  });
  for (const c of cases) it(c.name, () => expect(c.run(referenceKernels)).toBe(true));
});

describe('the suite catches a wrong backend', () => {
  const cases = kernelConformanceCases();
  const broken = (patch: Partial<KernelBackend>): KernelBackend => ({ ...referenceKernels, name: 'broken', ...patch });
  it('a mass pass that skips the last row fails', () => {
    const b = broken({
      massPass: (E, rows, cols, w, s, m, q) => referenceKernels.massPass!(E, Math.max(0, rows - 1), cols, w, s, m, q),
    });
    const failures = cases
      .filter((c) => c.kernel === 'massPass')
      .filter((c) => {
        try {
          c.run(b);
          return false;
        } catch {
          return true;
        }
      });
    expect(failures.length).toBeGreaterThan(10);
  });
  it('an exp fill with a 1e-6 relative error fails', () => {
    const b = broken({
      expShiftFill: (d, r, c, beta, E, mx, s, m) => {
        const valid = referenceKernels.expShiftFill!(d, r, c, beta, E, mx, s, m);
        for (let k = 0; k < E.length; k++) E[k] = E[k]! * (1 + 1e-6);
        return valid;
      },
    });
    expect(() => cases.find((c) => c.kernel === 'expShiftFill' && c.name.includes('64 x 100'))!.run(b)).toThrow(/E\[/);
  });
  it('an exp fill that does not report invalid rows fails', () => {
    const b = broken({
      expShiftFill: (d, r, c, beta, E, mx, s, m) => {
        referenceKernels.expShiftFill!(d, r, c, beta, E, mx, s, m);
        return r;
      },
    });
    const invalid = cases.filter((c) => c.kernel === 'expShiftFill' && c.name.includes('invalid rows'));
    expect(invalid.length).toBe(12);
    for (const c of invalid) expect(() => c.run(b)).toThrow(/first invalid row/);
  });
  const failing = (kernel: string, b: KernelBackend, filter: (name: string) => boolean = () => true) =>
    cases
      .filter((c) => c.kernel === kernel && filter(c.name))
      .filter((c) => {
        try {
          c.run(b);
          return false;
        } catch {
          return true;
        }
      }).length;
  it('ensembleNll: the last maximum instead of the first (argmax tie rule) fails on tied maxima', () => {
    const lastMaximum = broken({
      ensembleNll: (f, d, rows, cols, y, a, b, offset, options) => {
        const r = referenceKernels.ensembleNll!(f, d, rows, cols, y, a, b, offset, options);
        let correct = 0;
        for (let i = 0; i < rows; i++) {
          let m = Number.NEGATIVE_INFINITY;
          let arg = 0;
          for (let k = 0; k < cols; k++) {
            const v = a * f[i * cols + k]! + (d ? b * d[i * cols + k]! : 0) + (offset ? offset[k]! : 0);
            if (v >= m) {
              m = v;
              arg = k;
            }
          }
          if (arg === y[i]) correct++;
        }
        return { ...r, correct };
      },
    });
    expect(failing('ensembleNll', lastMaximum, (n) => n.includes('tied maxima'))).toBeGreaterThan(10);
  });
  it('ensembleNll: a 1e-9 relative error of the Hessian, or a row loss left out, fails', () => {
    const hessian = broken({
      ensembleNll: (...args) => {
        const r = referenceKernels.ensembleNll!(...args);
        return { ...r, hessAB: r.hessAB * (1 + 1e-9) + 1e-9 };
      },
    });
    expect(failing('ensembleNll', hessian, (n) => n.includes('derivatives') && !n.includes('one term'))).toBeGreaterThan(40);
    const lastRow = broken({
      ensembleNll: (f, d, rows, cols, y, a, b, offset, options) => {
        const r = referenceKernels.ensembleNll!(f, d, rows, cols, y, a, b, offset, options);
        if (options?.rowLoss && rows > 1) options.rowLoss[rows - 1] = 0;
        return r;
      },
    });
    expect(failing('ensembleNll', lastRow, (n) => !n.includes('1 x '))).toBeGreaterThan(100);
    const exp = broken({
      ensembleNll: (...args) => {
        const r = referenceKernels.ensembleNll!(...args);
        return { ...r, value: r.value * (1 + 1e-11) };
      },
    });
    expect(failing('ensembleNll', exp)).toBeGreaterThan(100);
  });
  it('a backend without a kernel is skipped (run returns false)', () => {
    expect(cases[0]!.run({ name: 'empty' })).toBe(false);
  });
});

describe('registry', () => {
  it('the reference is always there; a registered backend becomes the default for its kernels only', () => {
    expect(kernelBackends().map((b) => b.name)).toContain('reference');
    let calls = 0;
    registerKernels(
      {
        name: 'counting',
        gemmABt: (...args) => {
          calls++;
          referenceKernels.gemmABt!(...args);
        },
      },
      { priority: 5 },
    );
    try {
      expect(resolveKernel('gemmABt').name).toBe('counting');
      expect(resolveKernel('massPass').name).toBe('reference');
      const x = matrix(new Float64Array([1, 0, 0, 1, 1, 1, -1, 0]), 4, 2);
      const auto = trainLinearProbe(x, [0, 1, 1, 0], { l2: 0.1 });
      expect(auto.backend).toBe('counting');
      expect(calls).toBeGreaterThan(0);
      const ref = trainLinearProbe(x, [0, 1, 1, 0], { l2: 0.1, backend: 'reference' });
      expect(ref.backend).toBe('reference');
      expect(ref.objective).toBe(auto.objective);
    } finally {
      unregisterKernels('counting');
    }
    expect(() => getKernelBackend('counting')).toThrow(/unknown kernel backend/);
    expect(() => unregisterKernels('reference')).toThrow();
    expect(() => registerKernels({ name: 'bad', expShiftFill: referenceKernels.expShiftFill })).toThrow(/expRelativeError/);
  });
  it('estimatePrior reports the backend and rejects unknown ones', () => {
    const z = matrix(new Float64Array([2, 0, 1, 0, 2, 1, 1, 1, 2, 0, 0, 1]), 4, 3);
    const r = estimatePrior(z, [0, 1, 2, 2], { backend: 'reference' });
    expect(r.backend).toBe('reference');
    expect(() => estimatePrior(z, [0, 1, 2, 2], { backend: 'nope' })).toThrow(/unknown kernel backend 'nope'/);
  });
});
