// The conformance suite must catch broken adapters: wrap the real one and break it on purpose.
import { buildConformanceFixtures } from '@gla/fixtures/conformance';
import { type ModelSession, type Runtime, RuntimeError, type Tensor } from '@gla/runtime';
import { runConformance } from '@gla/runtime/conformance';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../src/index';

function wrap(base: Runtime, change: (session: ModelSession) => Partial<ModelSession>): Runtime {
  return {
    name: 'broken',
    async load(source, options) {
      const session = await base.load(source, options);
      return Object.assign(Object.create(session) as ModelSession, change(session));
    },
  };
}

async function failures(runtime: Runtime): Promise<string[]> {
  const results = await runConformance(runtime, buildConformanceFixtures());
  return results.filter((r) => !r.ok).map((r) => r.name);
}

describe('conformance suite sensitivity', () => {
  const base = createNodeRuntime();

  it('catches outputs off by 1e-4', async () => {
    const perturbed = wrap(base, (s) => ({
      run: async (feeds, names) => {
        const out = await s.run(feeds, names);
        for (const t of Object.values(out)) if (t.dtype === 'float32') (t.data as Float32Array)[0]! += 1e-4;
        return out;
      },
    }));
    expect(await failures(perturbed)).toContain('runs with dynamic batch sizes (1 and 5) and matches the reference within 1e-5');
  });

  it('catches an adapter that mutates inputs, wraps errors wrongly or ignores release', async () => {
    const mutating = wrap(base, (s) => ({
      run: async (feeds, names) => {
        const out = await s.run(feeds, names);
        for (const t of Object.values(feeds) as Tensor[]) if (t.dtype === 'float32') (t.data as Float32Array)[0]! += 1;
        return out;
      },
    }));
    expect(await failures(mutating)).toContain('does not mutate inputs, and results survive later runs');
    const untyped = wrap(base, (s) => ({
      run: async (feeds, names) => {
        try {
          return await s.run(feeds, names);
        } catch (e) {
          throw new Error(String(e));
        }
      },
    }));
    const names = await failures(untyped);
    expect(names).toContain("an unknown input throws 'unknown-input' naming it");
    expect(names).toContain("a backend failure while running throws 'run-failed' and the session stays usable");
    const immortal = wrap(base, () => ({ release: async () => undefined }));
    expect(await failures(immortal)).toEqual([
      "run after release throws 'released'; release is idempotent",
      "release() during runs lets them finish with correct outputs, then runs throw 'released'",
      "a failing run during release() still throws 'run-failed' (not 'released'), and release() completes",
    ]);
  });

  // The adapters' behaviour before the shared session (issue 13): a release during a run
  // aborted it with 'released' (onnx-node), or a queued run found the session gone (onnx-web).
  it("catches the old release-during-run behaviour: runs in flight rejected with 'released'", async () => {
    const abortsInFlight = wrap(base, (s) => {
      let releasedAt = 0;
      return {
        run: async (feeds, names) => {
          const started = releasedAt;
          const out = await s.run(feeds, names).catch((e: unknown) => {
            if (releasedAt !== started) throw new RuntimeError('released', 'the session was released during run', { cause: e });
            throw e;
          });
          if (releasedAt !== started) throw new RuntimeError('released', 'the session was released during run');
          return out;
        },
        release: async () => {
          releasedAt++;
          await s.release();
        },
      };
    });
    expect(await failures(abortsInFlight)).toEqual([
      "release() during runs lets them finish with correct outputs, then runs throw 'released'",
      "a failing run during release() still throws 'run-failed' (not 'released'), and release() completes",
    ]);
  });
});
