// Owns failing fast while PostgreSQL is unreachable: after a connection failure, work is refused at once until a probe gets through.

export interface BreakerOptions {
  /** One round trip on a fresh connection (bounded by the pool's timeouts); resolves when the database answers. */
  probe: () => Promise<void>
  /** Pause between failed probes. */
  probeIntervalMs: number
  onChange?: (open: boolean) => void
}

/**
 * Without it every request pays the full timeout of a hung database one after the other (a socket's frames are
 * handled in order), and requests pile up behind the pool. With it, the first failure opens the breaker, everything
 * after fails at once with service_unavailable, and a single background probe closes it when the database answers.
 */
export class ConnectionBreaker {
  private opened = false
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  constructor (private readonly options: BreakerOptions) {}

  get isOpen (): boolean {
    return this.opened
  }

  /** A connection failed (reset, refused, timed out): refuse work until a probe succeeds. */
  trip (): void {
    if (this.opened || this.stopped) return
    this.opened = true
    this.options.onChange?.(true)
    this.schedule(0)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule (delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null
      this.options.probe().then(() => {
        if (this.stopped) return
        this.opened = false
        this.options.onChange?.(false)
      }, () => {
        if (!this.stopped) this.schedule(this.options.probeIntervalMs)
      })
    }, delayMs)
    this.timer.unref()
  }
}
