// Owns group commit for sends: messages that arrive while a batch is being stored ride together in the next statement.
import { serviceUnavailable } from '../errors.js'
import type { Db } from './chat-repository.js'
import { insertMessages, isDeadlock, isRefusedForContent, isUniqueViolation, type InsertOutcome, type NewMessage } from './message-repository.js'

export interface SendBatcherOptions {
  /** Most messages stored by one statement. */
  maxBatch: number
  /** Batches stored at once (each on its own connection); 1 for a single-connection database. */
  maxInFlight: number
  /**
   * With batches in flight, another starts only once this many messages wait per batch already in flight. A few
   * fuller statements cost the database far less per message than many small ones, and the backlog that would
   * make them full also makes the extra parallelism worth it.
   */
  waitingPerExtraBatch: number
  /**
   * Most messages waiting for a statement. Beyond it a send fails at once with service_unavailable (the client
   * resends later) instead of queueing: while the database is down or hung nothing drains the queue, and memory
   * must not grow with the outage. Default DEFAULT_MAX_QUEUED.
   */
  maxQueued?: number
  /** Seconds a message may stay unread before its recipient is notified (src/notify/); null or absent: notifications off. */
  notifyDelaySeconds?: number | null
  /** Called with the size of each batch stored (metrics). */
  onBatch?: (messages: number) => void
}

/** What a send learns: a 'retry' never leaves the batcher. */
export type SendOutcome = Exclude<InsertOutcome, { kind: 'retry' }>

interface Pending {
  message: NewMessage
  resolve: (outcome: SendOutcome) => void
  reject: (error: unknown) => void
}

const DEADLOCK_RETRIES = 3
/** A chat is claimed once; a second change of buyer during one send would need a second claim of a claimed guest. */
const CLAIM_RETRIES = 2
/** Twenty full batches: far above any backlog seen at 10,000 msg/s, and a few MB at most while the database is away. */
export const DEFAULT_MAX_QUEUED = 10_000

/**
 * Each send resolves only after the statement holding it has committed, so an ack still means stored. Under light
 * load a message goes out alone at once; under heavy load the queue fills while earlier batches are in flight and
 * the next statement carries many messages, which is what turns one round trip and one commit per message into one
 * per batch. A chat is never in two in-flight batches: its messages are stored, and so published, in arrival order,
 * and two batches of this process never wait on each other's row locks.
 */
export class SendBatcher {
  private queue: Pending[] = []
  private readonly busyChats = new Set<string>()
  private inFlight = 0
  private scheduled = false

  constructor (private readonly db: Db, private readonly options: SendBatcherOptions) {}

  async submit (message: NewMessage): Promise<SendOutcome> {
    if (this.queue.length >= (this.options.maxQueued ?? DEFAULT_MAX_QUEUED)) throw serviceUnavailable('Too many messages waiting to be stored; resend shortly with the same client_message_id')
    return await new Promise<SendOutcome>((resolve, reject) => {
      this.queue.push({ message, resolve, reject })
      this.schedule()
    })
  }

  // Waiting for the end of this event-loop turn gathers every frame read in it into one batch, at almost no latency.
  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  private pump (): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0 &&
      this.queue.length >= this.inFlight * this.options.waitingPerExtraBatch) {
      const batch = this.take()
      if (batch.length === 0) return
      this.inFlight++
      this.options.onBatch?.(batch.length)
      for (const p of batch) this.busyChats.add(p.message.chatId)
      void this.store(batch).finally(() => {
        this.inFlight--
        for (const p of batch) this.busyChats.delete(p.message.chatId)
        this.pump()
      })
    }
  }

  /**
   * The next batch in queue order, skipping chats already in flight. Once a chat's message is left behind, the rest
   * of that chat waits too, so no chat's messages overtake each other. A client_message_id repeated by the same
   * sender also waits for a later batch, where it is found as a duplicate instead of failing this statement.
   */
  private take (): Pending[] {
    const batch: Pending[] = []
    const rest: Pending[] = []
    const held = new Set<string>()
    const keys = new Set<string>()
    for (const p of this.queue) {
      const { chatId, senderId, clientMessageId } = p.message
      const key = clientMessageId === null ? null : `${chatId}\n${p.message.senderIsRegistered ? 'u' : 'a'}:${senderId}\n${clientMessageId}`
      const fits = batch.length < this.options.maxBatch && !this.busyChats.has(chatId) && !held.has(chatId) &&
        (key === null || !keys.has(key))
      if (!fits) {
        held.add(chatId)
        rest.push(p)
        continue
      }
      if (key !== null) keys.add(key)
      batch.push(p)
    }
    this.queue = rest
    return batch
  }

  /** Settles every send of the batch; never throws. */
  private async store (batch: Pending[], claimRetries = CLAIM_RETRIES): Promise<void> {
    try {
      const outcomes = await this.insertRetryingDeadlocks(batch.map((p) => p.message))
      const again: Pending[] = []
      batch.forEach((p, i) => {
        const outcome = outcomes[i] as InsertOutcome
        if (outcome.kind !== 'retry') p.resolve(outcome)
        else if (claimRetries > 0) again.push(p)
        else p.resolve({ kind: 'not-found' })
      })
      // A claim moved these chats while the statement waited for their rows: a fresh statement sees who is in them now.
      if (again.length > 0) await this.store(again, claimRetries - 1)
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error)
        return
      }
      if (isUniqueViolation(error, 'messages_client_message_id_key')) {
        // Another connection stored one of these client_message_ids first (the violation is raised only once it has
        // committed). Nothing of this batch was stored; one by one, each message now stores or finds its original.
        for (const p of batch) await this.store([p])
        return
      }
      if (!isRefusedForContent(error)) {
        for (const p of batch) p.reject(error)
        return
      }
      // One message carried something the database refuses (validation should have stopped it). The statement
      // stored nothing; each half is stored on its own, in order, so every other send still succeeds and only the
      // culprit gets the error, after about 2·log2(batch) statements rather than one per message.
      const half = Math.ceil(batch.length / 2)
      await this.store(batch.slice(0, half))
      await this.store(batch.slice(half))
    }
  }

  // Another instance's batch can lock two of the same chats in the other order; Postgres then aborts one statement
  // whole, so running it again is safe.
  private async insertRetryingDeadlocks (messages: NewMessage[]): Promise<InsertOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await insertMessages(this.db, messages, this.options.notifyDelaySeconds ?? null)
      } catch (error) {
        if (!isDeadlock(error) || attempt >= DEADLOCK_RETRIES) throw error
      }
    }
  }
}
