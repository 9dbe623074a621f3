// Owns "was this guest claimed?": the claimed_guests table is the truth; a bounded per-app memory of claimed ids spares repeat probes.
const MAX_REMEMBERED = 10_000

/**
 * Claims are permanent, so a "claimed" answer is remembered for good (within a bound); "not claimed" is never
 * remembered, because another instance may claim the guest at any moment: a guest's request costs one primary-key
 * probe, a registered user's nothing.
 */
export class ClaimedGuests {
  private readonly known = new Set<string>()

  constructor (private readonly lookup: (guestId: string) => Promise<boolean>) {}

  async isClaimed (guestId: string): Promise<boolean> {
    if (this.known.has(guestId)) return true
    const claimed = await this.lookup(guestId)
    if (claimed) this.remember(guestId)
    return claimed
  }

  remember (guestId: string): void {
    if (this.known.size >= MAX_REMEMBERED) this.known.delete(this.known.values().next().value as string)
    this.known.add(guestId)
  }
}
