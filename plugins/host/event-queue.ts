/**
 * A bounded FIFO of plugin events: a plugin that does not keep up loses the oldest events, never the Proxy's memory
 * or time. `dropped` counts what fell out since the last takeDropped(), so a stream can say so in-band.
 */
import type { PluginEvent } from './plugin.js';

export const EVENT_QUEUE_CAPACITY = 1024;

export class EventQueue {
  private items: PluginEvent[] = [];
  private droppedSinceTaken = 0;
  totalDropped = 0;
  /** +1 whenever queued events may not reach the plugin as a continuation (a drop, a clear): a per-subscriber stream re-syncs. */
  breaks = 0;

  constructor(readonly capacity = EVENT_QUEUE_CAPACITY) {}

  get length(): number {
    return this.items.length;
  }

  push(event: PluginEvent): void {
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.droppedSinceTaken++;
      this.totalDropped++;
      this.breaks++;
    }
    this.items.push(event);
  }

  shift(): PluginEvent | undefined {
    return this.items.shift();
  }

  /** Up to `max` events from the front, left in the queue (a webhook removes them only once delivered). */
  peek(max: number): PluginEvent[] {
    return this.items.slice(0, max);
  }

  /** Removes the first `count` events, unless some were dropped meanwhile (then only those still there). */
  remove(events: readonly PluginEvent[]): void {
    const sent = new Set(events.map((e) => e.seq));
    this.items = this.items.filter((e) => !sent.has(e.seq));
  }

  clear(): void {
    this.items = [];
    this.breaks++;
  }

  takeDropped(): number {
    const n = this.droppedSinceTaken;
    this.droppedSinceTaken = 0;
    return n;
  }
}
