/** Counts running operations so `close()` can wait for writes that already started. */
export class InflightTracker {
  #count = 0;
  #idle: Array<() => void> = [];

  async track<T>(operation: () => Promise<T>): Promise<T> {
    this.#count++;
    try {
      return await operation();
    } finally {
      this.#count--;
      if (this.#count === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
