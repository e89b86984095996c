import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex, updateHash } from '../src/hash';

describe('hashing arrays of 2 GiB or more (issue 11: gla run --features with a 2.1 GiB features.npy)', () => {
  it('chunked updates give the digest of one update, for any chunk size and view offset', () => {
    const buffer = new Uint8Array(4099);
    for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 131 + 7) & 255;
    const view = new Float32Array(buffer.buffer, 4, 1000);
    const whole = createHash('sha256')
      .update(new Uint8Array(buffer.buffer, 4, 4000))
      .digest('hex');
    for (const chunk of [1, 3, 64, 3999, 4000, 1 << 30]) expect(updateHash(createHash('sha256'), view, chunk).digest('hex')).toBe(whole);
    expect(() => updateHash(createHash('sha256'), view, 0)).toThrow(RangeError);
  });

  it('a view of 2^31 + 16 bytes hashes (one Hash.update throws "data is too long"); digest of `head -c 2147483664 /dev/zero | sha256sum`', () => {
    const big = new Uint8Array(2 ** 31 + 16);
    expect(() => createHash('sha256').update(big)).toThrow(/too long/);
    expect(sha256Hex(big)).toBe('49ba1b2e1b2ee76becdf2fbefdfdd8cc2e89c57379ca8e21eded873d70480a77');
  }, 120_000);
});
