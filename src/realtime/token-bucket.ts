// Owns rate limiting per connection or per person: a token bucket refilled continuously at a rate, holding at most a burst.

export class TokenBucket {
  private tokens: number
  private last: number

  constructor (
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now()
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Takes one token if there is one; false means the caller is over its rate. */
  take (): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Whether the bucket is back to its burst: forgetting it then changes nothing. */
  full (): boolean {
    this.refill()
    return this.tokens >= this.burst
  }

  private refill (): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
  }
}
