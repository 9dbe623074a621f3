// Owns local delivery: a map from channel to handlers, shared by the in-process broker and the Redis one's receiving side.

export class ChannelHub<E> {
  private readonly handlers = new Map<string, Set<(event: E) => void>>()

  /** Adds a handler; returns true when this is the channel's first one (a remote subscription is then needed). */
  add (channel: string, handler: (event: E) => void): boolean {
    let set = this.handlers.get(channel)
    const first = set === undefined
    if (set === undefined) {
      set = new Set()
      this.handlers.set(channel, set)
    }
    set.add(handler)
    return first
  }

  /** Removes a handler; returns true when the channel has none left (the remote subscription can go). */
  remove (channel: string, handler: (event: E) => void): boolean {
    const set = this.handlers.get(channel)
    if (set === undefined) return false
    set.delete(handler)
    if (set.size > 0) return false
    this.handlers.delete(channel)
    return true
  }

  deliver (channel: string, event: E): void {
    const set = this.handlers.get(channel)
    if (set === undefined) return
    for (const handler of [...set]) handler(event)
  }

  channels (): string[] {
    return [...this.handlers.keys()]
  }

  get size (): number {
    return this.handlers.size
  }
}
