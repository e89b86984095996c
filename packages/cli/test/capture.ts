import { main } from '../src/cli';

/** Runs the CLI in-process: exit status, stdout lines (joined) and everything written to stderr. */
export async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errs: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errs.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(argv, (l) => lines.push(l));
    return { code, out: lines.join('\n'), err: errs.join('') };
  } finally {
    process.stderr.write = write;
  }
}
