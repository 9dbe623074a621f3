// Owns bounding concurrent background work (catch-ups after a broker gap) so it cannot take every database connection.

/** Catch-up reads at once per app: a quarter to a half of a default pool (10), the rest stays free for sends. */
export const CATCH_UP_CONCURRENCY = 4

export class TaskLimiter {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly max: number) {}

  async run<T> (task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => { this.waiting.push(resolve) })
    else this.running++
    try {
      return await task()
    } finally {
      // The slot passes straight to the next waiter, so running never overshoots max.
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}
