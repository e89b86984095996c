import { describe, expect, it } from 'vitest';
import { checkTurboHashes } from '../turbo-hashes';

describe('turbo cache keys follow the package graph', () => {
  it('re-hashes the typecheck of a package and of every dependent when one source file changes, and no other', () => {
    const results = checkTurboHashes({ task: 'typecheck' });
    expect(results.length).toBeGreaterThanOrEqual(10);
    const core = results.find((r) => r.edited === '@gla/core')!;
    expect(core.expected).toEqual(expect.arrayContaining(['@gla/core', '@gla/datasets', '@gla/encoders', '@gla/protocols', '@gla/cli']));
    for (const r of results) {
      expect(r.stale, `after editing ${r.file}`).toEqual([]);
      expect(r.spurious, `after editing ${r.file}`).toEqual([]);
    }
    // @gla/tooling holds the shared tsconfig and vitest settings: every package depends on it.
    const tooling = results.find((r) => r.edited === '@gla/tooling')!;
    expect(tooling.changed).toEqual(results.map((r) => r.edited).sort());
  }, 120_000);

  it('catches the old configuration (typecheck without upstream dependencies) as stale', () => {
    const [core] = checkTurboHashes({
      packages: ['@gla/core'],
      editTurboJson: (config) => {
        delete config.tasks['typecheck']!.dependsOn;
      },
    });
    expect(core!.changed).toEqual(['@gla/core']);
    expect(core!.stale).toEqual(expect.arrayContaining(['@gla/datasets', '@gla/encoders', '@gla/protocols', '@gla/cli']));
  }, 60_000);
});
