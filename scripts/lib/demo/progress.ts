/**
 * The demo's progress display: one line per phase, updated in place on a terminal (plain lines at the end of each
 * phase otherwise, so CI logs stay short). Writes to stderr, so `--json` output on stdout stays clean.
 */
export class Progress {
  #phase = 0;
  #name = "";
  #started = Date.now();
  #lastLength = 0;

  constructor(
    private readonly phases: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Starts the next phase. */
  phase(name: string): void {
    this.#phase += 1;
    this.#name = name;
    this.#started = Date.now();
    this.update("...");
  }

  /** Replaces the current phase's status (terminals only). */
  update(status: string): void {
    if (!this.stream.isTTY) return;
    const line = this.#prefix() + status;
    this.stream.write(`\r${line.padEnd(this.#lastLength)}`);
    this.#lastLength = line.length;
  }

  /** Ends the current phase with its summary. */
  done(summary: string): void {
    const seconds = ((Date.now() - this.#started) / 1000).toFixed(1);
    const line = `${this.#prefix()}${summary} (${seconds} s)`;
    this.stream.write(this.stream.isTTY ? `\r${line.padEnd(this.#lastLength)}\n` : `${line}\n`);
    this.#lastLength = 0;
  }

  #prefix(): string {
    return `[${this.#phase}/${this.phases}] ${this.#name}: `;
  }
}
