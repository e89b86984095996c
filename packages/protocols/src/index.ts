/**
 * @gla/protocols: the GLA paper's evaluation protocols (few-shot, many-shot, long-tailed) over
 * @gla/core and the browser-safe samplers of @gla/datasets. No Node built-ins: the CLI
 * (apps/bench) and a web page run the same code. Inputs are typed arrays; results are plain
 * JSON-serialisable objects (accuracies as fractions in [0, 1]).
 */
export { type CellHooks, type CellRecord, type FailedCell, runCells, yieldToEventLoop } from './cells';
export { classCounts, type PreparedData, type PrepareOptions, type ProtocolDataset, prepareData } from './data';
export { isProtocolError, ProtocolError, type ProtocolErrorCode } from './errors';
export {
  choiceWeights,
  type Diagnostics,
  type EnsembleChoiceDetail,
  ensembleChoice,
  type FewShotCell,
  type FewShotDetail,
  type FewShotResults,
  type RunOptions,
  runFewShot,
  runFewShotCell,
  type TestLogits,
} from './few-shot';
export {
  type GroupStat,
  type HeldOutCell,
  type HeldOutDetail,
  type HeldOutOptions,
  type LongTailResults,
  type ManyShotResults,
  runHeldOutCell,
  runLongTail,
  runManyShot,
} from './held-out';
export { estimateProtocolBytes, type ProtocolShape } from './memory';
export {
  DEFAULT_SETTINGS,
  FEW_SHOT_METHODS,
  type FewShotMethod,
  GLA_METHODS,
  LONG_TAIL_METHODS,
  type LongTailMethod,
  MANY_SHOT_METHODS,
  type ManyShotMethod,
  type ProtocolSettings,
} from './settings';
export { type BaselineComparison, compareWithBestBaseline, type Stat, stat } from './stats';
