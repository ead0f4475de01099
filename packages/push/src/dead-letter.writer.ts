import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@mqim/config';

/**
 * Appends one JSON line per notification that could not be delivered, so an operator can see what
 * was lost and replay it. Writes are chained so concurrent failures never interleave within a line;
 * a write error is logged, never thrown: losing a dead letter must not take a send down with it.
 */
export class DeadLetterWriter {
  private chain: Promise<void> = Promise.resolve();
  private dirReady = false;

  constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
    /** What was lost, in log lines (`push`, `hook`). */
    private readonly kind = 'push',
  ) {}

  /**
   * `entry` goes to the file; only `summary` goes to the log, so message text and device tokens
   * stay out of log shippers.
   */
  write(entry: Record<string, unknown>, summary: Record<string, unknown>): Promise<void> {
    this.log.warn({ ...summary, file: this.file }, `${this.kind} dead-lettered`);
    const file = this.file;
    if (!file) return Promise.resolve();
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`;
    this.chain = this.chain.then(async () => {
      try {
        if (!this.dirReady) {
          await mkdir(dirname(file), { recursive: true });
          this.dirReady = true;
        }
        await appendFile(file, line, 'utf8');
      } catch (err) {
        this.log.error({ err, file }, `could not write ${this.kind} dead letter`);
      }
    });
    return this.chain;
  }
}
