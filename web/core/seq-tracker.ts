// Owns which part of a chat's seq range the client holds without holes, so a skipped seq is noticed, never trusted.

/**
 * `top` is the highest seq such that every message from the first one received up to it is held. A live message
 * above top + 1 means something was lost on the way: the owner fetches after `top` before trusting the stream,
 * and resumes a socket from `top` too, so a hole is never papered over by a newer message.
 */
export class SeqTracker {
  top = 0
  private anchored = false
  private readonly held = new Set<number>()

  /** A history page: every message in a range, in any order. An empty first page means the chat starts empty. */
  addAll (seqs: number[]): void {
    if (!this.anchored) {
      this.anchored = true
      this.top = seqs.length ? Math.min(...seqs) - 1 : 0
    }
    for (const seq of seqs) this.held.add(seq)
    this.advance()
  }

  /** One message from the live stream (or an ack). */
  add (seq: number): void { this.addAll([seq]) }

  /** True while some held message is above a hole. */
  get hasGap (): boolean {
    for (const seq of this.held) if (seq > this.top) return true
    return false
  }

  private advance (): void {
    while (this.held.has(this.top + 1)) this.top++
  }
}
