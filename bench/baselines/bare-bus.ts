/**
 * The baseline the router is measured against: the smallest correct async bus, a
 * `Map<type, Set<handler>>` whose publish awaits `Promise.all` of its handlers. No names, no
 * validation, no envelope, no isolation, no ordering guarantee between publishes.
 */
export type BareHandler = (payload: unknown) => unknown;

export class BareBus {
  private readonly handlers = new Map<string, Set<BareHandler>>();

  subscribe(type: string, handler: BareHandler): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  async publish(type: string, payload: unknown): Promise<void> {
    const set = this.handlers.get(type);
    if (!set) return;
    await Promise.all([...set].map((h) => h(payload)));
  }
}
