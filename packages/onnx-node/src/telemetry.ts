import { createRequire } from 'node:module';

/**
 * ONNX Runtime's telemetry opt-out. onnxruntime-node ≥ 1.29 starts a telemetry system on POSIX
 * when its environment is created (the first `InferenceSession`): it writes
 * `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` and `$TMPDIR/mat-debug-<pid>.log`, and a few
 * seconds later looks up and contacts an events host. `ORT_DISABLE_TELEMETRY=1`, read once when
 * that environment is created, turns all of it off.
 */
export const TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

/** What `disableOrtTelemetry` found: it set the variable, or the user had set it (to any non-empty value, e.g. `0` to opt in). */
export type TelemetrySetting = 'disabled' | 'user-setting';

/**
 * Sets `ORT_DISABLE_TELEMETRY=1` in `env` (default `process.env`, which the native runtime reads)
 * unless it already has a non-empty value: `ORT_DISABLE_TELEMETRY=0` in the environment is the
 * documented way to opt back in. Idempotent; has an effect on ONNX Runtime only before its first
 * session is created in this process.
 */
export function disableOrtTelemetry(env: Record<string, string | undefined> = process.env): TelemetrySetting {
  const value = env[TELEMETRY_VARIABLE];
  if (value !== undefined && value !== '') return 'user-setting';
  env[TELEMETRY_VARIABLE] = '1';
  return 'disabled';
}

/** Whether onnxruntime-node's JavaScript is already in Node's module cache (loaded by someone else). */
function ortAlreadyLoaded(): boolean {
  const cache = createRequire(`${process.cwd()}/`).cache;
  return Object.keys(cache).some((path) => /[\\/]onnxruntime-node[\\/]dist[\\/]binding\.js$/.test(path));
}

/** The module namespace of onnxruntime-node. */
export type OrtModule = typeof import('onnxruntime-node');

let loading: Promise<OrtModule> | undefined;
let warned = false;

/**
 * onnxruntime-node, imported on first use after `disableOrtTelemetry()`. When the module was
 * loaded before (the caller imported onnxruntime-node itself) and the variable was not set, the
 * opt-out still applies if no session was created yet; a one-time warning says how to make sure.
 */
export function loadOrt(): Promise<OrtModule> {
  if (loading === undefined) {
    const attempt = importOrt();
    loading = attempt;
    // a failed import (e.g. the peer dependency is missing) is not kept: the next call tries again
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
  }
  return loading;
}

async function importOrt(): Promise<OrtModule> {
  const loadedBefore = ortAlreadyLoaded();
  const setting = disableOrtTelemetry();
  if (loadedBefore && setting === 'disabled' && !warned) {
    warned = true;
    process.emitWarning(
      'onnxruntime-node was loaded before @gla/onnx-node and ORT_DISABLE_TELEMETRY was not set. @gla/onnx-node has set it now, ' +
        'which disables ONNX Runtime telemetry only if no InferenceSession was created before. To be sure, import ' +
        "'@gla/onnx-node/no-telemetry' before onnxruntime-node, or set ORT_DISABLE_TELEMETRY=1 in the environment.",
      { code: 'GLA_ORT_TELEMETRY', type: 'GlaWarning' },
    );
  }
  const module = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
  // CommonJS module: `default` is its `module.exports`, which always has every export.
  return module.default?.InferenceSession !== undefined ? module.default : module;
}
