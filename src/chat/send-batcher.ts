// Owns group commit for sends: messages that arrive while a batch is being stored ride together in the next statement.
import type { Db } from './chat-repository.js'
import { insertMessages, isDeadlock, isUniqueViolation, type InsertOutcome, type NewMessage } from './message-repository.js'

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
  /** Called with the size of each batch stored (metrics). */
  onBatch?: (messages: number) => void
}

interface Pending {
  message: NewMessage
  resolve: (outcome: InsertOutcome) => void
  reject: (error: unknown) => void
}

const DEADLOCK_RETRIES = 3

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

  async submit (message: NewMessage): Promise<InsertOutcome> {
    return await new Promise<InsertOutcome>((resolve, reject) => {
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
      const key = clientMessageId === null ? null : `${chatId}\n${senderId}\n${clientMessageId}`
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

  private async store (batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.insertRetryingDeadlocks(batch.map((p) => p.message))
      batch.forEach((p, i) => p.resolve(outcomes[i] as InsertOutcome))
    } catch (error) {
      if (!isUniqueViolation(error, 'messages_client_message_id_key')) {
        for (const p of batch) p.reject(error)
        return
      }
      // Another connection stored one of these client_message_ids first (the violation is raised only once it has
      // committed). Nothing of this batch was stored; one by one, each message now stores or finds its original.
      for (const p of batch) {
        try {
          const [outcome] = await this.insertRetryingDeadlocks([p.message])
          p.resolve(outcome as InsertOutcome)
        } catch (single) {
          p.reject(single)
        }
      }
    }
  }

  // Another instance's batch can lock two of the same chats in the other order; Postgres then aborts one statement
  // whole, so running it again is safe.
  private async insertRetryingDeadlocks (messages: NewMessage[]): Promise<InsertOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await insertMessages(this.db, messages)
      } catch (error) {
        if (!isDeadlock(error) || attempt >= DEADLOCK_RETRIES) throw error
      }
    }
  }
}
