/**
 * The bench's view of @gla/protocols: the protocols themselves live in that browser-safe package;
 * this file only maps its typed errors to CLI errors and re-exports what the CLI and report use.
 */
import { isProtocolError } from '@gla/protocols';
import { CliError } from './errors';

export {
  DEFAULT_SETTINGS,
  FEW_SHOT_METHODS,
  type FewShotResults,
  GLA_METHODS,
  LONG_TAIL_METHODS,
  type LongTailResults,
  MANY_SHOT_METHODS,
  type ManyShotResults,
  type ProtocolSettings,
  prepareData,
  runFewShot,
  runLongTail,
  runManyShot,
  type Stat,
  type TestLogits,
} from '@gla/protocols';

/** Runs `fn`, turning a ProtocolError into the matching CliError ('interrupted' or 'data'). */
export async function asCliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isProtocolError(error)) throw new CliError(error.code === 'interrupted' ? 'interrupted' : 'data', error.message);
    throw error;
  }
}
