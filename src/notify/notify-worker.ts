// Owns each instance's notification worker: turns due pending-unread rows into events (message.unread, chat.created) and delivers the outbox with retries.
import { sql } from 'kysely'
import { buyerKey, sellerKey } from '../chat/participants.js'
import type { Db } from '../chat/chat-repository.js'
import type { NotifyConfig } from '../config.js'
import type { Logger } from '../logger.js'
import type { Presence } from '../realtime/presence.js'
import * as outbox from './outbox-repository.js'
import { findSubscription, removeSubscription, subscriptionIdsOf } from './push-subscriptions.js'
import type { PushSender } from './push-sender.js'
import type { DeliveryResult, WebhookSender } from './webhook-sender.js'

export interface NotifyCounters {
  delivered: (channel: outbox.Channel) => void
  failedAttempt: (channel: outbox.Channel) => void
  deadLettered: (channel: outbox.Channel) => void
}

export interface NotifyWorkerDeps {
  db: Db
  presence: Presence
  config: NotifyConfig
  log: Pick<Logger, 'warn' | 'info'>
  counters: NotifyCounters
  webhook: WebhookSender | null
  push: PushSender | null
  /** Jitter source; tests may fix it. */
  random?: () => number
}

const PENDING_BATCH = 100
const OUTBOX_BATCH = 50
const PREVIEW_CHARS = 120
/** Longest wait between two attempts, however many failed. */
const MAX_BACKOFF_SECONDS = 3600

interface DueRow {
  chat_id: string
  kind: 'buyer' | 'seller' | 'chat_created'
  listing_id: string
  seller_id: string
  buyer_id: string
  buyer_is_registered: boolean
  last_seq: number
  seller_last_read_seq: number
  buyer_last_read_seq: number
  created_at: Date
}

/** A message inside a webhook payload (first_message, last_message). */
interface WebhookMessage {
  seq: number
  sender_id: string
  text: string
  /** The contact filter's flags, e.g. ["contact_info"]; [] when none. */
  flags: string[]
  created_at: string
}

/** Exponential backoff with jitter: base·2^(attempt-1), drawn from its upper half, capped. */
export function backoffSeconds (attempt: number, baseSeconds: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1))
  return ceiling / 2 + random() * ceiling / 2
}

export class NotifyWorker {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private closed = false
  private passes: Promise<void> = Promise.resolve()

  constructor (private readonly deps: NotifyWorkerDeps) {}

  start (): void {
    this.schedule(0)
  }

  private schedule (delayMs: number): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.tick().then((busy) => {
        this.running = null
        // A full batch means more is probably due: go again at once instead of waiting a poll interval.
        this.schedule(busy ? 0 : this.deps.config.pollIntervalMs)
      })
    }, delayMs)
  }

  /** One pass; true when a batch was full. Never throws (a database or Redis outage waits for the next pass). Passes never overlap. */
  async tick (): Promise<boolean> {
    const pass = this.passes.then(async () => await this.pass())
    this.passes = pass.then(() => undefined, () => undefined)
    return await pass
  }

  private async pass (): Promise<boolean> {
    try {
      const raised = await this.raiseDue()
      const delivered = await this.deliverDue()
      return raised >= PENDING_BATCH || delivered >= OUTBOX_BATCH
    } catch (error) {
      this.deps.log.warn({ err: error }, 'notification pass failed; retrying on the next one')
      return false
    }
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  /**
   * Claims due pending rows (skipping those another instance holds), decides each, and in the same transaction
   * enqueues their deliveries and deletes them: a row is raised once, and a crash before commit leaves it due.
   * A whole batch costs a fixed handful of statements, however many rows it holds.
   */
  private async raiseDue (): Promise<number> {
    const { db, presence } = this.deps
    return await db.transaction().execute(async (trx) => {
      const due = await sql<DueRow>`
        select p.chat_id, p.kind, c.listing_id, c.seller_id, c.buyer_id, c.buyer_is_registered, c.last_seq,
          c.seller_last_read_seq, c.buyer_last_read_seq, c.created_at
        from notify_pending p join chats c on c.id = p.chat_id
        where p.due_at <= now() order by p.due_at limit ${PENDING_BATCH}
        for update of p skip locked`.execute(trx)
      if (due.rows.length === 0) return 0
      const recipientKey = (row: DueRow): string => row.kind === 'buyer' ? buyerKey(row) : sellerKey(row)
      const unread = (row: DueRow): number => row.last_seq - (row.kind === 'buyer' ? row.buyer_last_read_seq : row.seller_last_read_seq)
      const waiting = due.rows.filter((row) => row.kind !== 'chat_created' && unread(row) > 0)
      // Someone with a socket open anywhere sees the message live: no notification.
      const online = waiting.length === 0 ? new Set<string>() : await presence.onlineAmong(waiting.map(recipientKey))
      const created = this.deps.webhook === null ? [] : due.rows.filter((row) => row.kind === 'chat_created')
      const unseen = waiting.filter((row) => !online.has(recipientKey(row)))
      const messages = await messagesAt(trx, [
        ...created.map((row) => ({ chatId: row.chat_id, seq: 1 })),
        ...unseen.map((row) => ({ chatId: row.chat_id, seq: row.last_seq }))
      ])
      const subscriptions = this.deps.push === null ? new Map<string, string[]>() : await subscriptionIdsOf(trx, unseen.map(recipientKey))
      const deliveries: outbox.NewDelivery[] = []
      for (const row of created) deliveries.push(chatCreated(row, messages.get(`${row.chat_id}:1`)))
      for (const row of unseen) {
        const last = messages.get(`${row.chat_id}:${row.last_seq}`)
        if (this.deps.webhook !== null) deliveries.push(unreadWebhook(row, unread(row), last))
        for (const id of subscriptions.get(recipientKey(row)) ?? []) deliveries.push(unreadPush(row, unread(row), last, id))
      }
      await outbox.enqueueAll(trx, deliveries)
      await sql`delete from notify_pending p using unnest(${due.rows.map((r) => r.chat_id)}::uuid[], ${due.rows.map((r) => r.kind)}::text[]) as d(chat_id, kind)
        where p.chat_id = d.chat_id and p.kind = d.kind`.execute(trx)
      return due.rows.length
    })
  }

  /**
   * Leases due deliveries and makes one attempt each, concurrently; failures are written back one by one, and what
   * was delivered (or is gone) leaves the outbox in one statement.
   */
  private async deliverDue (): Promise<number> {
    const { db, config } = this.deps
    // Longer than any attempt can take, so a live worker's lease never runs out under it.
    const leaseSeconds = Math.ceil(config.webhookTimeoutMs / 1000) * 2 + 10
    const rows = await outbox.leaseDue(db, OUTBOX_BATCH, leaseSeconds)
    const finished = await Promise.all(rows.map(async (row) => await this.deliver(row)))
    await outbox.removeDelivered(db, rows.filter((_, i) => finished[i]).map((row) => row.id))
    return rows.length
  }

  /** One attempt; true when the row is finished (delivered, or nothing left to deliver to), false when it stays queued. */
  private async deliver (row: outbox.OutboxRow): Promise<boolean> {
    const { db, counters, log } = this.deps
    let result: DeliveryResult
    if (row.channel === 'webhook') {
      // Webhooks turned off since the event was queued: it stays in the outbox until they are back.
      if (this.deps.webhook === null) return false
      result = await this.deps.webhook.send(row.event_id, row.body)
    } else {
      const subscription = row.subscription_id === null ? undefined : await findSubscription(db, row.subscription_id)
      if (subscription === undefined || this.deps.push === null) return true
      result = await this.deps.push.send(subscription, row.body)
      if (result.kind === 'gone' && row.subscription_id !== null) await removeSubscription(db, row.subscription_id)
    }
    if (result.kind === 'delivered' || result.kind === 'gone') {
      if (result.kind === 'delivered') counters.delivered(row.channel)
      else log.info({ event_id: row.event_id, channel: row.channel }, 'notification receiver answered gone; not retrying')
      return true
    }
    counters.failedAttempt(row.channel)
    const delay = backoffSeconds(row.attempts, this.deps.config.retryBaseSeconds, this.deps.random ?? Math.random)
    const deadline = new Date(row.created_at).getTime() + this.deps.config.retryHours * 3_600_000
    if (Date.now() + delay * 1000 > deadline) {
      log.warn({ event_id: row.event_id, channel: row.channel, attempts: row.attempts, error: result.error }, 'notification dead-lettered after its retry window')
      counters.deadLettered(row.channel)
      await outbox.moveToDeadLetters(db, row.id, result.error)
      return false
    }
    await outbox.scheduleRetry(db, row.id, delay, result.error)
    return false
  }
}

/** The chat's part of every webhook body, first in each. */
function chatData (row: DueRow): Record<string, unknown> {
  return {
    chat_id: row.chat_id,
    listing_id: row.listing_id,
    seller_id: row.seller_id,
    buyer_id: row.buyer_id,
    buyer_is_registered: row.buyer_is_registered
  }
}

function chatCreated (row: DueRow, first: WebhookMessage | undefined): outbox.NewDelivery {
  return {
    channel: 'webhook',
    type: 'chat.created',
    subscriptionId: null,
    data: {
      ...chatData(row),
      created_at: new Date(row.created_at).toISOString(),
      first_message: first ?? null
    }
  }
}

function unreadWebhook (row: DueRow, unreadCount: number, last: WebhookMessage | undefined): outbox.NewDelivery {
  const recipientIsSeller = row.kind === 'seller'
  return {
    channel: 'webhook',
    type: 'message.unread',
    subscriptionId: null,
    data: {
      ...chatData(row),
      recipient_id: recipientIsSeller ? row.seller_id : row.buyer_id,
      recipient_role: row.kind,
      recipient_is_registered: recipientIsSeller ? true : row.buyer_is_registered,
      unread_count: unreadCount,
      last_message: last ?? null
    }
  }
}

/** A push payload: a short plain-text preview, never the contact filter's flags. */
function unreadPush (row: DueRow, unreadCount: number, last: WebhookMessage | undefined, subscriptionId: string): outbox.NewDelivery {
  const text = last?.text ?? ''
  return {
    channel: 'push',
    type: 'message.unread',
    subscriptionId,
    data: {
      type: 'message.unread',
      chat_id: row.chat_id,
      listing_id: row.listing_id,
      role: row.kind,
      preview: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text,
      unread_count: unreadCount
    }
  }
}

/** Messages as webhooks carry them (with the contact filter's flags), keyed `chat_id:seq`, in one statement. */
async function messagesAt (db: Db, wanted: ReadonlyArray<{ chatId: string, seq: number }>): Promise<Map<string, WebhookMessage>> {
  const found = new Map<string, WebhookMessage>()
  if (wanted.length === 0) return found
  const rows = await sql<{ chat_id: string, seq: number, sender_id: string, message_text: string, flags: string[], created_at: Date }>`
    select m.chat_id, m.seq, m.sender_id, m.message_text, m.flags, m.created_at
    from messages m join unnest(${wanted.map((w) => w.chatId)}::uuid[], ${wanted.map((w) => w.seq)}::int[]) as w(chat_id, seq)
      on m.chat_id = w.chat_id and m.seq = w.seq`.execute(db)
  for (const m of rows.rows) {
    found.set(`${m.chat_id}:${m.seq}`, {
      seq: m.seq,
      sender_id: m.sender_id,
      text: m.message_text,
      flags: m.flags,
      created_at: new Date(m.created_at).toISOString()
    })
  }
  return found
}
