import { ProtocolError } from './errors';

/** A cell that could not be fitted: its library error, recorded instead of its numbers. */
export interface FailedCell {
  key: string;
  /** The library error's stable code (e.g. 'not-identifiable'). */
  code: string;
  message: string;
}

/** What a checkpoint holds for one cell. */
export type CellRecord<Cell> = { status: 'ok'; cell: Cell } | { status: 'failed'; failure: FailedCell };

/** Hooks shared by every protocol runner. */
export interface CellHooks<Cell> {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Cells finished by an earlier, interrupted run of the SAME data and settings (the caller checks
   * that): reused as they are, not recomputed. Cells are deterministic, so the result equals an
   * uninterrupted run.
   */
  completed?: ReadonlyMap<string, CellRecord<Cell>>;
  /** Called after every newly computed cell, e.g. to checkpoint it. */
  onCell?: (key: string, record: CellRecord<Cell>) => void | Promise<void>;
}

function libraryErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return (error.name === 'GlaError' || error.name === 'DatasetError') && typeof code === 'string' ? code : undefined;
}

/** Lets cancellation and progress output run between long synchronous cells (browser-safe). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs cells in order: reuses `completed` ones, computes the rest, turns a library error (GlaError /
 * DatasetError) of one cell into a {@link FailedCell} so the other cells complete, and calls the
 * hooks. `compute` receives the last successful cell (for warm starts across seeds).
 */
export async function runCells<Item extends { key: string }, Cell>(
  items: readonly Item[],
  compute: (item: Item, previous: Cell | undefined) => Cell | Promise<Cell>,
  hooks: CellHooks<Cell> & { afterCell?: () => void | Promise<void> } = {},
): Promise<{ cells: Cell[]; failed: FailedCell[] }> {
  const cells: Cell[] = [];
  const failed: FailedCell[] = [];
  let previous: Cell | undefined;
  let done = 0;
  for (const item of items) {
    await yieldToEventLoop();
    if (hooks.signal?.aborted) throw new ProtocolError('interrupted', 'interrupted');
    let record = hooks.completed?.get(item.key);
    if (!record) {
      try {
        record = { status: 'ok', cell: await compute(item, previous) };
        await hooks.afterCell?.();
      } catch (error) {
        const code = libraryErrorCode(error);
        if (code === undefined) throw error;
        record = { status: 'failed', failure: { key: item.key, code, message: (error as Error).message } };
      }
      await hooks.onCell?.(item.key, record);
    }
    if (record.status === 'ok') {
      cells.push(record.cell);
      previous = record.cell;
    } else failed.push(record.failure);
    hooks.onProgress?.(++done, items.length);
  }
  return { cells, failed };
}
