import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createNpyWriter,
  type Dtype,
  decodeNpy,
  decodeSafetensors,
  encodeNpy,
  encodeSafetensors,
  isDatasetError,
  type NdArray,
  openNpy,
  readNpy,
  readNpz,
  readSafetensors,
  streamNpyRows,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from '../src/index';
import { hasNumpy, makeTempDir, python, SHARED } from './helpers';

const tmp = makeTempDir();
afterAll(tmp.cleanup);

const NUMPY_DTYPES: [string, Dtype][] = [
  ['bool', 'bool'],
  ['int8', 'int8'],
  ['uint8', 'uint8'],
  ['int16', 'int16'],
  ['uint16', 'uint16'],
  ['int32', 'int32'],
  ['uint32', 'uint32'],
  ['int64', 'int64'],
  ['uint64', 'uint64'],
  ['float16', 'float16'],
  ['float32', 'float32'],
  ['float64', 'float64'],
  ['complex64', 'complex64'],
  ['complex128', 'complex128'],
];

function toNumbers(a: NdArray): number[] {
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
}

describe.skipIf(!hasNumpy())('.npy against numpy', () => {
  // One python run writes every fixture: all dtypes × byte order × C/Fortran order, plus the
  // expected values (C-order, flattened, as float64 / interleaved complex) in JSON.
  const dir = tmp.dir;
  const expected = JSON.parse(
    python(
      `
d = sys.argv[1]
out = {}
rng = np.random.default_rng(7)
for name in ${JSON.stringify(NUMPY_DTYPES.map(([n]) => n))}:
    base = rng.integers(-50, 120, size=(3, 4, 5)).astype('float64') / (4 if name.startswith(('float','complex')) else 1)
    if name == 'bool': a = base > 10
    elif name.startswith('u'): a = np.abs(base).astype(name)
    elif name.startswith('complex'): a = (base + 1j * base[::-1]).astype(name)
    else: a = base.astype(name)
    if name == 'float16': a[0, 0, :3] = [np.inf, -0.0, 6.1e-5]
    for order in '<>':
        for fortran in (False, True):
            b = a.astype(a.dtype.newbyteorder(order)) if a.dtype.itemsize > 1 else a
            if fortran: b = np.asfortranarray(b)
            np.save(f'{d}/{name}{order == "<" and "LE" or "BE"}{fortran and "F" or "C"}.npy', b)
    flat = a.ravel(order='C')
    if name.startswith('complex'): vals = np.stack([flat.real, flat.imag], 1).ravel().astype('float64')
    else: vals = flat.astype('float64')
    out[name] = [None if not np.isfinite(v) else float(v) for v in vals] if name == 'float16' else vals.tolist()
    out[name + '_inf'] = [bool(np.isinf(v)) for v in vals]
np.save(f'{d}/scalar.npy', np.float64(3.5))
np.save(f'{d}/empty.npy', np.zeros((0, 7), 'float32'))
np.savez(f'{d}/plain.npz', a=np.arange(12, dtype='int32').reshape(3, 4), b=np.linspace(0, 1, 5))
np.savez_compressed(f'{d}/packed.npz', features=np.arange(600, dtype='float32').reshape(20, 30) / 7, labels=np.arange(20) % 3)
print(json.dumps(out))
`,
      [dir],
    ),
  );

  for (const [name, dtype] of NUMPY_DTYPES) {
    for (const variant of ['LEC', 'LEF', 'BEC', 'BEF']) {
      it(`reads ${name} ${variant}`, async () => {
        const a = await readNpy(join(dir, `${name}${variant}.npy`));
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual([3, 4, 5]);
        const got = toNumbers(a);
        const want = expected[name] as (number | null)[];
        const inf = expected[`${name}_inf`] as boolean[];
        expect(got.length).toBe(want.length);
        for (let i = 0; i < got.length; i++) {
          if (inf[i]) expect(Math.abs(got[i]!)).toBe(Number.POSITIVE_INFINITY);
          else expect(got[i]).toBe(want[i]);
        }
      });
    }
  }

  it('reads 0-d and empty arrays', async () => {
    const s = await readNpy(join(dir, 'scalar.npy'));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data as Float64Array)).toEqual([3.5]);
    const e = await readNpy(join(dir, 'empty.npy'));
    expect(e.shape).toEqual([0, 7]);
    expect(e.data.length).toBe(0);
  });

  it('reads numpy .npz, stored and deflated', async () => {
    const plain = await readNpz(join(dir, 'plain.npz'));
    expect(Object.keys(plain).sort()).toEqual(['a', 'b']);
    expect(plain['a']!.shape).toEqual([3, 4]);
    expect(Array.from(plain['a']!.data as Int32Array)).toEqual([...Array(12).keys()]);
    expect(Array.from(plain['b']!.data as Float64Array)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const packed = await readNpz(join(dir, 'packed.npz'));
    expect(packed['features']!.shape).toEqual([20, 30]);
    expect((packed['features']!.data as Float32Array)[599]).toBeCloseTo(599 / 7, 4);
    expect(Array.from(packed['labels']!.data as BigInt64Array, Number).slice(0, 4)).toEqual([0, 1, 2, 0]);
  });

  it('writes .npy/.npz/safetensors that numpy reads back identically (every dtype, both orders)', async () => {
    const files: string[] = [];
    for (const [name, dtype] of NUMPY_DTYPES) {
      const a = await readNpy(join(dir, `${name}LEC.npy`));
      for (const [tag, opts] of [
        ['c', {}],
        ['f', { fortranOrder: true }],
        ['b', { byteOrder: 'big' as const }],
      ] as const) {
        const file = join(dir, `out-${name}-${tag}.npy`);
        await writeNpy(file, a, opts);
        files.push(`${name}:${file}`);
      }
      expect(a.dtype).toBe(dtype);
    }
    const arrays = { x: await readNpy(join(dir, 'float32LEC.npy')), y: await readNpy(join(dir, 'int64BEF.npy')) };
    await writeNpz(join(dir, 'mine.npz'), arrays);
    await writeNpz(join(dir, 'mine-z.npz'), arrays, { compress: true });
    const report = python(
      `
d = sys.argv[1]
bad = []
for spec in sys.argv[2:]:
    name, f = spec.split(':', 1)
    a = np.load(f); ref = np.load(f'{d}/{name}LEC.npy')
    if a.dtype.str[1:] != ref.dtype.str[1:] or a.shape != ref.shape or not np.array_equal(a, ref, equal_nan=True): bad.append(f)
for f in ('mine.npz', 'mine-z.npz'):
    z = np.load(f'{d}/{f}')
    if not (np.array_equal(z['x'], np.load(f'{d}/float32LEC.npy')) and np.array_equal(z['y'], np.load(f'{d}/int64BEF.npy'))): bad.append(f)
print(json.dumps(bad))
`,
      [dir, ...files],
    );
    expect(JSON.parse(report)).toEqual([]);
  });

  it('reads safetensors written by python (json + raw bytes)', async () => {
    const file = join(dir, 't.safetensors');
    python(
      `
import struct
a = (np.arange(24, dtype='float32').reshape(2, 3, 4) / 3)
b = np.array([1, -2, 3], dtype='int64')
c = np.array([0.5, -1.25], dtype='float16')
blobs = [a.tobytes(), b.tobytes(), c.tobytes()]
o = 0; h = {'__metadata__': {'format': 'pt'}}
for name, arr, dt, blob in zip('abc', (a, b, c), ('F32', 'I64', 'F16'), blobs):
    h[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [o, o + len(blob)]}; o += len(blob)
j = json.dumps(h).encode()
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(j)) + j + b''.join(blobs))
`,
      [file],
    );
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors['a']!.shape).toEqual([2, 3, 4]);
    expect((tensors['a']!.data as Float32Array)[23]).toBeCloseTo(23 / 3, 5);
    expect(Array.from(tensors['b']!.data as BigInt64Array, Number)).toEqual([1, -2, 3]);
    expect(Array.from(tensors['c']!.data as Float32Array)).toEqual([0.5, -1.25]);
  });
});

describe('.npy in TypeScript alone', () => {
  it('reads the CLIP preprocessing goldens in ../shared (float32 CHW) and the JPEG decodes (uint8 HWC)', async () => {
    const chw = await readNpy(join(SHARED, 'data/preprocess-golden/case0_32x32.clip224.npy'));
    expect(chw.dtype).toBe('float32');
    expect(chw.shape).toEqual([3, 224, 224]);
    const rgb = await readNpy(join(SHARED, 'data/preprocess-golden/jpeg_decoded_airplane_0000.rgb.npy'));
    expect(rgb).toMatchObject({ dtype: 'uint8', shape: [32, 32, 3] });
  });

  it('round-trips float16 exactly for every half value', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const asUint16 = encodeNpy({ dtype: 'uint16', shape: [65536], data: bits });
    // same bytes, relabelled as float16 ('<u2' -> '<f2': same header length)
    const text = new TextDecoder('latin1').decode(asUint16.subarray(0, 128)).replace("'<u2'", "'<f2'");
    const relabelled = asUint16.slice();
    relabelled.set(
      Uint8Array.from(text, (c) => c.charCodeAt(0)),
      0,
    );
    const decoded = decodeNpy(relabelled);
    expect(decoded.dtype).toBe('float16');
    const again = encodeNpy({ dtype: 'float16', shape: [65536], data: decoded.data as Float32Array });
    const back = new Uint16Array(again.slice(again.length - 131072).buffer);
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (nan) expect(Number.isNaN((decoded.data as Float32Array)[i])).toBe(true);
      else if (back[i] !== i) expect.unreachable(`half bits ${i} came back as ${back[i]}`);
    }
  });

  it('round-trips safetensors (8-byte aligned header, metadata) and decodes bfloat16', async () => {
    const file = join(tmp.dir, 'mine.safetensors');
    await writeSafetensors(
      file,
      { 'layer.weight': { dtype: 'float32', shape: [2, 2], data: [1, -2, 3.5, 4] }, ids: { dtype: 'int64', shape: [2], data: [7, 9] } },
      { note: 'é' },
    );
    const bytes = readFileSync(file);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ note: 'é' });
    expect(Array.from(back.tensors['layer.weight']!.data as Float32Array)).toEqual([1, -2, 3.5, 4]);
    expect(Array.from(back.tensors['ids']!.data as BigInt64Array, Number)).toEqual([7, 9]);
    const bf = encodeSafetensors({ x: { dtype: 'bfloat16', shape: [3], data: [1, -0.5, 3.140625] } });
    expect(Array.from(decodeSafetensors(bf).tensors['x']!.data as Float32Array)).toEqual([1, -0.5, 3.140625]);
  });

  it('streams rows in bounded batches from C and Fortran order files', async () => {
    const data = Float32Array.from({ length: 37 * 5 }, (_, i) => i);
    for (const fortranOrder of [false, true]) {
      const file = join(tmp.dir, `stream-${fortranOrder}.npy`);
      await writeNpy(file, { dtype: 'float32', shape: [37, 5], data }, { fortranOrder });
      const seen: number[] = [];
      for await (const batch of streamNpyRows(file, { batchRows: 8 })) {
        expect(batch.array.shape[0]).toBeLessThanOrEqual(8);
        seen.push(...(batch.array.data as Float32Array));
      }
      expect(seen).toEqual(Array.from(data));
      const reader = await openNpy(file);
      expect(Array.from((await reader.readRows(36, 1)).data as Float32Array)).toEqual([180, 181, 182, 183, 184]);
      await reader.close();
    }
  });

  it('builds a .npy row by row with createNpyWriter', async () => {
    const file = join(tmp.dir, 'rows.npy');
    const writer = await createNpyWriter(file, { dtype: 'float32', rowShape: [3] });
    await writer.append([1, 2, 3]);
    await writer.append(new Float32Array([4, 5, 6, 7, 8, 9]));
    expect(await writer.close()).toBe(3);
    const a = await readNpy(file);
    expect(a.shape).toEqual([3, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects truncated, padded and foreign files with typed errors', async () => {
    const good = encodeNpy({ dtype: 'float64', shape: [4, 4], data: new Float64Array(16) });
    const cut = join(tmp.dir, 'cut.npy');
    writeFileSync(cut, good.subarray(0, good.length - 3));
    await expect(readNpy(cut)).rejects.toMatchObject({ code: 'truncated' });
    const extra = new Uint8Array(good.length + 8);
    extra.set(good);
    expect(() => decodeNpy(extra)).toThrow(expect.objectContaining({ code: 'header-mismatch' }));
    expect(() => decodeNpy(new TextEncoder().encode('hello world, not numpy'))).toThrow(expect.objectContaining({ code: 'bad-magic' }));
    await expect(readNpy(join(tmp.dir, 'nope.npy'))).rejects.toMatchObject({ code: 'not-found' });
    // a header that claims a terabyte is refused before allocating
    const huge = encodeNpy({ dtype: 'float64', shape: [1, 1], data: [0] });
    const text = new TextDecoder('latin1').decode(huge).replace("'shape': (1, 1)", "'shape': (1099511627776,)");
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(() => decodeNpy(bytes)).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(isDatasetError(new Error('x'))).toBe(false);
  });
});
