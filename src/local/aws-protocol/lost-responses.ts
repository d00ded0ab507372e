/** What a simulator answers in place of a response it lost on purpose. */
export const lostResponseMessage =
  'The local cloud lost this response on purpose (failNextResponse).';

/**
 * The `failNextResponse` counters of a simulator: the next N calls of an operation take effect
 * and then answer a 500, as if the response were lost on the way back. Retries must then
 * recognise their own earlier write rather than repeat it.
 */
export class LostResponses<Operation extends string> {
  readonly #left = new Map<Operation, number>();
  readonly #operations: ReadonlySet<string>;

  constructor(operations: Readonly<Record<string, Operation>>) {
    this.#operations = new Set(Object.values(operations));
  }

  lose(operation: Operation, times = 1): void {
    this.#left.set(operation, (this.#left.get(operation) ?? 0) + times);
  }

  /** True (and one fewer left) when this call of `operation` is to lose its response. */
  take(operation: string): boolean {
    if (!this.#operations.has(operation)) return false;
    const left = this.#left.get(operation as Operation) ?? 0;
    if (left <= 0) return false;
    this.#left.set(operation as Operation, left - 1);
    return true;
  }
}
