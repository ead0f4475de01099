import { clearLine, cursorTo, type Interface } from 'node:readline';
import type { Writable } from 'node:stream';

/**
 * Where the chat prints. On a terminal, lines that arrive while the user is typing are written
 * above the prompt and the half-typed input is redrawn, so incoming messages never garble it.
 */
export class ChatView {
  constructor(
    private readonly output: Writable,
    private readonly rl: Interface,
    private readonly terminal: boolean,
  ) {}

  print(...lines: string[]): void {
    if (this.terminal) {
      clearLine(this.output, 0);
      cursorTo(this.output, 0);
    }
    for (const line of lines) this.output.write(`${line}\n`);
    if (this.terminal) this.rl.prompt(true);
  }

  prompt(): void {
    if (this.terminal) this.rl.prompt();
  }
}

/** `HH:MM` in local time, from Unix seconds. */
export function clock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
