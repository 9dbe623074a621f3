// Owns the limits per person rather than per socket: message and read rates across all their sockets, and how many sockets they may hold.
import { TokenBucket } from './token-bucket.js'

export type LimitedAction = 'message' | 'read'

export interface SocketSlot {
  /** Gives the slot back; safe to call more than once, never throws. */
  release: () => Promise<void>
}

/**
 * One person (an identity key: registered and anonymous ids apart) is limited as a whole, so opening more sockets
 * buys neither a higher rate nor unbounded server memory. In-process alone; Redis-backed across instances.
 */
export interface IdentityLimits {
  /** One frame of this kind from this person; false means over their rate. */
  take: (action: LimitedAction, userKey: string) => Promise<boolean>
  /** A socket slot for this person, or null when they already hold the maximum. */
  acquireSocket: (userKey: string) => Promise<SocketSlot | null>
  close: () => Promise<void>
}

export interface IdentityLimitsOptions {
  /** Sustained frames per second per person, for messages and for reads separately. */
  rate: number
  burst: number
  maxSockets: number
}

// A full bucket is the same as none: idle people are forgotten at this interval so the map does not grow forever.
const SWEEP_MS = 60_000

/** The limits of this instance alone: used without Redis, and by the Redis version while Redis is unreachable. */
export class LocalIdentityLimits implements IdentityLimits {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly sockets = new Map<string, number>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly options: IdentityLimitsOptions) {
    this.sweeper = setInterval(() => { this.sweep() }, SWEEP_MS)
    this.sweeper.unref()
  }

  takeNow (action: LimitedAction, userKey: string): boolean {
    const key = `${action}:${userKey}`
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.options.rate, this.options.burst)
      this.buckets.set(key, bucket)
    }
    return bucket.take()
  }

  async take (action: LimitedAction, userKey: string): Promise<boolean> {
    return this.takeNow(action, userKey)
  }

  /** Sockets this person holds on this instance. */
  socketsOf (userKey: string): number {
    return this.sockets.get(userKey) ?? 0
  }

  /** Every person with a socket here, and how many. */
  allSockets (): ReadonlyMap<string, number> {
    return this.sockets
  }

  /** Counts a socket whatever the limit (the Redis version decides the limit itself); returns the release. */
  hold (userKey: string): () => void {
    this.sockets.set(userKey, this.socketsOf(userKey) + 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      const left = this.socketsOf(userKey) - 1
      if (left > 0) this.sockets.set(userKey, left)
      else this.sockets.delete(userKey)
    }
  }

  async acquireSocket (userKey: string): Promise<SocketSlot | null> {
    if (this.socketsOf(userKey) >= this.options.maxSockets) return null
    const release = this.hold(userKey)
    return { release: async () => { release() } }
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
  }

  private sweep (): void {
    for (const [key, bucket] of this.buckets) if (bucket.full()) this.buckets.delete(key)
  }
}

export function createLocalIdentityLimits (options: IdentityLimitsOptions): LocalIdentityLimits {
  return new LocalIdentityLimits(options)
}
