/**
 * One status line while something runs: rewritten in place on a terminal, a plain line every few
 * seconds otherwise (CI logs, `| tee`). Always stopped by the caller; the timer is unref'd so a
 * forgotten one never keeps the process alive.
 */
export function showProgress(label: string, line: () => string, everyMs = 1000): () => void {
  const tty = process.stdout.isTTY === true;
  const started = Date.now();
  let ticks = 0;
  const print = (final: boolean) => {
    const text = `[${label}] ${((Date.now() - started) / 1000).toFixed(0)}s ${line()}`;
    if (tty) process.stdout.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else if (final || ticks % 5 === 0) process.stdout.write(`${text}\n`);
  };
  const timer = setInterval(() => {
    ticks++;
    print(false);
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    print(true);
  };
}

export function log(text: string): void {
  process.stdout.write(`${text}\n`);
}
