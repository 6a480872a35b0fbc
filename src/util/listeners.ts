// Subscribers of one kind of news (a camera's detections, tracking's
// updates, an event's phases): add() gives back the unsubscribe, so whoever
// subscribes can undo it (app.ts undoes all of its own at close), and emit()
// calls each in the order they subscribed.
export class Listeners<Args extends unknown[]> {
  private readonly set = new Set<(...args: Args) => void>();

  /** Subscribes; returns the function that unsubscribes. */
  add(listener: (...args: Args) => void): () => void {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(...args: Args): void {
    for (const listener of this.set) listener(...args);
  }

  get size(): number {
    return this.set.size;
  }
}
