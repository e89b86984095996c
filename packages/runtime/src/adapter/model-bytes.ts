import { RuntimeError } from '../errors';

const REASONS: Readonly<Record<string, string>> = {
  truncated: 'the bytes are truncated',
  invalid: 'the bytes are not protocol buffers',
};

/**
 * Checks model bytes with an ONNX reader (e.g. `decodeModel` of `@gla/onnx-builder`) before an
 * adapter hands them to its backend, so that a file that is not ONNX, or is cut short, fails with
 * `RuntimeError('invalid-model')` naming the problem instead of a backend's opaque message.
 * Errors of the reader that carry a `code` ('truncated' | 'invalid' | 'not-onnx') become
 * 'invalid-model'; anything else is rethrown.
 * @param where names the model in messages (its path, URL or 'model bytes').
 */
export function assertModelBytes(bytes: Uint8Array, where: string, decode: (bytes: Uint8Array) => unknown): void {
  try {
    decode(bytes);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !['truncated', 'invalid', 'not-onnx'].includes(code)) throw e;
    const reason = REASONS[code] ?? 'the bytes are not an ONNX model';
    throw new RuntimeError('invalid-model', `${where}: ${reason} (${bytes.length} bytes): ${(e as Error).message}`, {
      cause: e,
    });
  }
}
