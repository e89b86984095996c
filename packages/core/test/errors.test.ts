import { describe, expect, it } from 'vitest';
import { GlaError, isGlaError } from '../src/index';

describe('GlaError shape and guard', () => {
  it('splits cause from details and keeps code and message', () => {
    const cause = new Error('inner');
    const e = new GlaError('shape-mismatch', 'logits: 3 x 4, labels: 5', { cause, rows: 3, labels: 5 });
    expect(e.code).toBe('shape-mismatch');
    expect(e.message).toBe('logits: 3 x 4, labels: 5');
    expect(e.name).toBe('GlaError');
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ rows: 3, labels: 5 });
    expect('cause' in new GlaError('empty-input', 'no rows')).toBe(false);
  });

  it('recognises errors by brand, with an optional code filter', () => {
    const e = new GlaError('non-finite', 'logits[2] is NaN');
    expect(isGlaError(e)).toBe(true);
    expect(isGlaError(e, 'non-finite')).toBe(true);
    expect(isGlaError(e, 'empty-input')).toBe(false);
    expect(isGlaError(new Error('x'))).toBe(false);
    expect(isGlaError({ code: 'non-finite', name: 'GlaError' })).toBe(false);
    expect(isGlaError(null)).toBe(false);
  });

  it('instanceof accepts a GlaError of another copy (same global brand) and nothing else', () => {
    // A second copy of the package defines its own class; the brand is the registry symbol.
    class OtherCopy extends Error {}
    Object.defineProperty(OtherCopy.prototype, Symbol.for('@gla/core:GlaError'), { value: true });
    const foreign = new OtherCopy('from the CommonJS build');
    expect(foreign instanceof GlaError).toBe(true);
    expect(isGlaError(foreign)).toBe(true);
    expect(new Error('plain') instanceof GlaError).toBe(false);
    // Subclasses keep ordinary instanceof semantics.
    class Sub extends GlaError {}
    expect(new Sub('invalid-option', 'x') instanceof Sub).toBe(true);
    expect(new GlaError('invalid-option', 'x') instanceof Sub).toBe(false);
  });
});
