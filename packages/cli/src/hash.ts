import { createHash, type Hash } from 'node:crypto';

/** Largest slice handed to one `Hash.update` call: Node refuses 2^31 bytes or more ("data is too long"). */
export const HASH_CHUNK_BYTES = 1 << 30;

/**
 * Feeds the bytes of a typed array (any size, e.g. a 2.1 GiB features matrix) to `hash` in
 * slices of at most `chunkBytes` (default {@link HASH_CHUNK_BYTES}). The digest equals one
 * update with all the bytes.
 */
export function updateHash(hash: Hash, view: ArrayBufferView, chunkBytes = HASH_CHUNK_BYTES): Hash {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let start = 0; start < bytes.length; start += chunkBytes)
    hash.update(bytes.subarray(start, Math.min(bytes.length, start + chunkBytes)));
  return hash;
}

/** sha256 (hex) of the bytes of a typed array of any size. */
export function sha256Hex(view: ArrayBufferView): string {
  return updateHash(createHash('sha256'), view).digest('hex');
}
