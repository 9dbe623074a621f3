// Owns notification delivery rows: the generic outbox (enqueueWebhook/enqueueAll), leasing due rows, retry bookkeeping, dead letters and their re-drive.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../chat/chat-repository.js'

export type Channel = 'webhook' | 'push'

export interface OutboxRow {
  id: string
  channel: Channel
  event_id: string
  event_type: string
  body: string
  subscription_id: string | null
  attempts: number
  created_at: Date
}

export interface DeadLetter extends OutboxRow {
  failed_at: Date
  last_error: string | null
}

/** A new Standard Webhooks message id; kept on the row, so every attempt carries the same webhook-id. */
export function newEventId (): string {
  return `msg_${randomUUID()}`
}

/**
 * Queues one webhook event (`{"type","timestamp","data"}`) for delivery. Takes a db or a transaction: enqueued in the
 * transaction of the change it reports, the event is sent exactly when that change commits (at least once).
 */
export async function enqueueWebhook (db: Db, type: string, data: Record<string, unknown>, at: Date = new Date()): Promise<string> {
  const eventId = newEventId()
  const body = JSON.stringify({ type, timestamp: at.toISOString(), data })
  await db.insertInto('notify_outbox')
    .values({ channel: 'webhook', event_id: eventId, event_type: type, body, subscription_id: null, next_attempt_at: sql<Date>`now()` })
    .execute()
  return eventId
}

/** One delivery to queue: a webhook event (subscriptionId null) or a push message for one subscription. */
export interface NewDelivery {
  channel: Channel
  type: string
  /** The webhook event's data, or the push payload. */
  data: Record<string, unknown>
  subscriptionId: string | null
}

/** Queues many deliveries in one statement (the notification worker raises a whole batch of due rows at once). */
export async function enqueueAll (db: Db, deliveries: readonly NewDelivery[], at: Date = new Date()): Promise<void> {
  if (deliveries.length === 0) return
  await db.insertInto('notify_outbox')
    .values(deliveries.map((d) => ({
      channel: d.channel,
      event_id: newEventId(),
      event_type: d.type,
      body: JSON.stringify(d.channel === 'webhook' ? { type: d.type, timestamp: at.toISOString(), data: d.data } : d.data),
      subscription_id: d.subscriptionId,
      next_attempt_at: sql<Date>`now()`
    })))
    .execute()
}

/**
 * Leases up to `limit` due rows: each is pushed leaseSeconds into the future and its attempt counted, so another
 * worker (here or on another instance) skips it while this one delivers. A worker killed mid-delivery leaves the
 * lease to expire and the row is tried again: at least once, never lost.
 */
export async function leaseDue (db: Db, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  const result = await sql<OutboxRow>`
    update notify_outbox o set next_attempt_at = now() + make_interval(secs => ${leaseSeconds}::float8), attempts = o.attempts + 1
    where o.id in (
      select id from notify_outbox where next_attempt_at <= now() order by next_attempt_at limit ${limit}
      for update skip locked
    )
    returning o.id::text as id, o.channel, o.event_id, o.event_type, o.body, o.subscription_id, o.attempts, o.created_at`.execute(db)
  return result.rows
}

export async function removeDelivered (db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await sql`delete from notify_outbox where id = any(${ids}::bigint[])`.execute(db)
}

export async function scheduleRetry (db: Db, id: string, delaySeconds: number, error: string): Promise<void> {
  await sql`update notify_outbox set next_attempt_at = now() + make_interval(secs => ${delaySeconds}::float8), last_error = ${error}
    where id = ${id}::bigint`.execute(db)
}

export async function moveToDeadLetters (db: Db, id: string, error: string): Promise<void> {
  await sql`
    with moved as (delete from notify_outbox where id = ${id}::bigint returning *)
    insert into notify_dead_letters (id, channel, event_id, event_type, body, subscription_id, attempts, created_at, last_error)
    select id, channel, event_id, event_type, body, subscription_id, attempts, created_at, ${error} from moved`.execute(db)
}

export async function listDeadLetters (db: Db, limit: number): Promise<DeadLetter[]> {
  const result = await sql<DeadLetter>`
    select id::text as id, channel, event_id, event_type, body, subscription_id, attempts, created_at, failed_at, last_error
    from notify_dead_letters order by failed_at desc, id desc limit ${limit}`.execute(db)
  return result.rows
}

export async function countDeadLetters (db: Db): Promise<number> {
  const result = await sql<{ n: number }>`select count(*)::int as n from notify_dead_letters`.execute(db)
  return result.rows[0]?.n ?? 0
}

/**
 * Puts dead letters (all, or the given ids) back in the outbox, due now with a fresh retry window. The event id
 * and body are kept, so a receiver that did get an earlier attempt recognises the event.
 */
export async function redriveDeadLetters (db: Db, ids: string[] | null): Promise<number> {
  const result = await sql<{ id: string }>`
    with moved as (
      delete from notify_dead_letters where ${ids === null} or id::text = any(${ids ?? []}::text[]) returning *
    )
    insert into notify_outbox (channel, event_id, event_type, body, subscription_id, created_at, next_attempt_at)
    select channel, event_id, event_type, body, subscription_id, now(), now() from moved
    returning id::text as id`.execute(db)
  return result.rows.length
}
