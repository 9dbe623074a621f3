// Owns "was this guest claimed?": the claimed_guests table is the truth; a bounded per-app memory of claimed ids spares repeat probes.
import { LRUCache } from 'lru-cache'

const MAX_REMEMBERED = 10_000

/**
 * Claims are permanent, so a "claimed" answer is remembered for good (within a bound); "not claimed" is never
 * remembered, because another instance may claim the guest at any moment: a guest's request costs one primary-key
 * probe, a registered user's nothing.
 */
export class ClaimedGuests {
  // The first remembered goes first when full (lru-cache: a Set used as a queue walks past its deleted entries).
  private readonly known = new LRUCache<string, true>({ max: MAX_REMEMBERED })

  constructor (private readonly lookup: (guestId: string) => Promise<boolean>) {}

  async isClaimed (guestId: string): Promise<boolean> {
    if (this.known.has(guestId)) return true
    const claimed = await this.lookup(guestId)
    if (claimed) this.remember(guestId)
    return claimed
  }

  remember (guestId: string): void {
    this.known.set(guestId, true)
  }
}
