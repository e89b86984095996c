import { RuntimeError } from '../errors';
import { describeError } from './backend';
import { assertModelBytes } from './model-bytes';

/** One execution provider that could not create the session, and what the backend threw. */
export interface ProviderFailure {
  readonly provider: string;
  readonly error: unknown;
}

/**
 * Tries `create` with each provider in order and returns the first session with its provider.
 * A `RuntimeError` thrown by `create` is a verdict and is rethrown at once; any other error is
 * recorded, and when every provider failed, `explain(failures)` decides what to throw (see
 * `explainLoadFailure`).
 */
export async function createWithFallback<S>(
  providers: readonly string[],
  create: (provider: string) => Promise<S>,
  explain: (failures: readonly ProviderFailure[]) => Promise<never>,
): Promise<{ session: S; provider: string }> {
  if (providers.length === 0) throw new RuntimeError('unsupported-provider', 'executionProviders is empty');
  const failures: ProviderFailure[] = [];
  for (const provider of providers) {
    try {
      return { session: await create(provider), provider };
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      failures.push({ provider, error: e });
    }
  }
  return explain(failures);
}

/** What `explainLoadFailure` needs to know. */
export interface LoadFailure {
  /** Names the model (its path, URL or `model bytes (N bytes)`). */
  readonly where: string;
  /** The backend in messages, e.g. `'onnxruntime-node'`. */
  readonly backendName: string;
  readonly failures: readonly ProviderFailure[];
  /** The provider that runs any valid model (`'cpu'`, `'wasm'`): when it failed too, the model or the set-up is at fault. */
  readonly fallbackProvider: string;
  /** The model's bytes, asked for only now (e.g. read from the file the backend could not load). */
  readonly modelBytes: () => Uint8Array | Promise<Uint8Array>;
  /** An ONNX reader (`decodeModel` of `@gla/onnx-builder`) used to say why bytes are not a model. */
  readonly decode: (bytes: Uint8Array) => unknown;
  /** Whether the fallback provider's error is a set-up problem (e.g. its wasm files were not found), not the model's. */
  readonly isSetupFailure?: (error: unknown) => boolean;
  /** Appended to the message of a set-up failure, e.g. where the backend's files must be served. */
  readonly setupHint?: string;
}

/**
 * The error for a load where every provider failed, the same way for every adapter. The model is
 * decoded only here, to explain the failure, never on a successful load.
 * - the fallback provider was not requested → `'unsupported-provider'` suggesting it;
 * - the bytes are not ONNX (not protobuf, truncated, no graph) → `'invalid-model'` saying which;
 * - the fallback provider could not start → `'unsupported-provider'`;
 * - otherwise → `'invalid-model'` with every provider's message.
 * The last backend error is the `cause`.
 */
export async function explainLoadFailure(failure: LoadFailure): Promise<never> {
  const { where, backendName, failures, fallbackProvider } = failure;
  const text = failures.map((f) => `${f.provider}: ${describeError(f.error)}`).join('; ');
  const cause = failures[failures.length - 1]?.error;
  const fallback = failures.find((f) => f.provider === fallbackProvider);
  if (fallback === undefined) {
    const first = failures[0]?.provider ?? fallbackProvider;
    throw new RuntimeError(
      'unsupported-provider',
      `${where}: no requested execution provider could be used (${text}); add '${fallbackProvider}' as a fallback, e.g. ['${first}', '${fallbackProvider}']`,
      { cause },
    );
  }
  const bytes = await failure.modelBytes();
  if (bytes.length === 0) throw new RuntimeError('invalid-model', `${where}: the model is empty (0 bytes)`, { cause });
  assertModelBytes(bytes, where, failure.decode);
  if (failure.isSetupFailure?.(fallback.error) === true) {
    throw new RuntimeError(
      'unsupported-provider',
      `${where}: ${backendName} could not start (${text})${failure.setupHint ? `; ${failure.setupHint}` : ''}`,
      { cause },
    );
  }
  throw new RuntimeError('invalid-model', `${where}: ${backendName} cannot load the model: ${text}`, { cause });
}
