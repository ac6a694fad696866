/**
 * Changes that are written to the durable state run one at a time, each to its end (made, written, answered — or
 * undone): two interleaved changes could otherwise be saved in another order than they were made, or one's undo
 * could wipe out the other.
 */
export class ChangeQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(change: () => Promise<T>): Promise<T> {
    const run = this.tail.then(change, change);
    this.tail = run.catch(() => {});
    return run;
  }
}
