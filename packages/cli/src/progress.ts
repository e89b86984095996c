/**
 * A progress bar on stderr. On a TTY it redraws one line; elsewhere (CI, pipes, files) it prints
 * a plain line at most every 10% so logs stay readable. GLA_QUIET=1 silences it.
 */
export class Progress {
  private readonly label: string;
  private total: number;
  private done = 0;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly started = performance.now();
  private readonly stream: NodeJS.WriteStream;

  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.label = label;
    this.total = Math.max(0, total);
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.quiet = process.env.GLA_QUIET === '1';
  }

  /** Sets the absolute count (and optionally a new total). */
  update(done: number, total = this.total): void {
    this.done = done;
    this.total = total;
    this.draw(false);
  }

  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Final line with the elapsed time. */
  finish(note = ''): void {
    this.done = this.total;
    this.draw(true, note);
  }

  private draw(final: boolean, note = ''): void {
    if (this.quiet) return;
    const now = performance.now();
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const elapsed = (now - this.started) / 1000;
    if (this.tty) {
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(fraction * width);
      const eta = fraction > 0 && fraction < 1 ? ` eta ${((elapsed / fraction) * (1 - fraction)).toFixed(0)}s` : '';
      const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.done}/${this.total} ${elapsed.toFixed(1)}s${eta}${note ? ` ${note}` : ''}`;
      this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (!final && decile === this.lastDecile) return;
    this.lastDecile = decile;
    if (final) this.stream.write(`${this.label}: done ${this.done}/${this.total} in ${elapsed.toFixed(1)}s${note ? ` ${note}` : ''}\n`);
    else this.stream.write(`${this.label}: ${this.done}/${this.total} (${(fraction * 100).toFixed(0)}%) ${elapsed.toFixed(1)}s\n`);
  }
}

/** Writes a status line to stderr (not to stdout, which carries results). */
export function log(message: string): void {
  if (process.env.GLA_QUIET === '1') return;
  process.stderr.write(`${message}\n`);
}
