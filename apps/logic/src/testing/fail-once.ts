/**
 * Store and bus steps that fail the next time they run, then work again: how the logic specs
 * (group-ordering, group-roles, recall-ordering) make one step of a request fail once and check
 * that the redelivered request still ends with each effect exactly once.
 */
export class FailOnce {
  /** Steps armed to fail on their next run (`armed.add('messages.save')`). */
  readonly armed = new Set<string>();
  /** Steps that did fail, in order. */
  readonly failures: string[] = [];

  reset(): void {
    this.armed.clear();
    this.failures.length = 0;
  }

  /** The error a failed step throws: a store outage, which logic retries by redelivery. */
  readonly unavailable = (step: string): Error => {
    this.failures.push(step);
    return Object.assign(new Error(`${step}: database went away`), { code: 'IM_ERR_STORE_UNAVAILABLE' });
  };

  /** `obj` with `method` wrapped so that it throws once while `step` is armed. */
  readonly failable = <T extends object>(obj: T, method: keyof T & string, step: string): T => {
    const original = (obj[method] as (...a: unknown[]) => Promise<unknown>).bind(obj);
    return Object.assign(Object.create(obj) as T, {
      [method]: async (...args: unknown[]) => {
        if (this.armed.delete(step)) throw this.unavailable(step);
        return original(...args);
      },
    });
  };
}
