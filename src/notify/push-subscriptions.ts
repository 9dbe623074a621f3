// Owns Web Push subscriptions: subscribing (endpoint checked, at most MAX_PUSH_SUBSCRIPTIONS per identity), unsubscribing, and lookups for delivery.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { identityKey, type Identity } from '../auth/identity.js'
import type { Db } from '../chat/chat-repository.js'
import { AppError } from '../errors.js'
import { checkPushEndpoint, EndpointRefused, type Resolver } from './endpoint-check.js'

export const MAX_PUSH_SUBSCRIPTIONS = 10

export interface PushSubscriptionInput {
  endpoint: string
  keys: { p256dh: string, auth: string }
}

export class PushSubscriptions {
  constructor (private readonly deps: { db: Db, enabled: boolean, allowInsecure: boolean, resolve?: Resolver }) {}

  private requireEnabled (): void {
    if (!this.deps.enabled) throw new AppError('push_not_configured', 'This service has no Web Push keys')
  }

  /** Stores the caller's subscription; created false when it was already known (its keys are refreshed). */
  async subscribe (identity: Identity, input: PushSubscriptionInput): Promise<{ created: boolean }> {
    this.requireEnabled()
    try {
      await checkPushEndpoint(input.endpoint, { allowInsecure: this.deps.allowInsecure, resolve: this.deps.resolve })
    } catch (error) {
      if (error instanceof EndpointRefused) throw new AppError('push_endpoint_refused', error.message)
      throw error
    }
    const key = identityKey(identity)
    return await this.deps.db.transaction().execute(async (trx) => {
      // Serialises one identity's subscribes, so two at once cannot both pass the limit.
      await sql`select pg_advisory_xact_lock(hashtext(${`push:${key}`}))`.execute(trx)
      const updated = await trx.updateTable('push_subscriptions')
        .set({ p256dh: input.keys.p256dh, auth: input.keys.auth })
        .where('identity_key', '=', key).where('endpoint', '=', input.endpoint)
        .executeTakeFirst()
      if (Number(updated.numUpdatedRows) > 0) return { created: false }
      const { n } = await trx.selectFrom('push_subscriptions').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('identity_key', '=', key).executeTakeFirstOrThrow()
      if (Number(n) >= MAX_PUSH_SUBSCRIPTIONS) {
        throw new AppError('too_many_push_subscriptions', `At most ${MAX_PUSH_SUBSCRIPTIONS} push subscriptions per person; remove one first`)
      }
      await trx.insertInto('push_subscriptions')
        .values({ id: randomUUID(), identity_key: key, endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth })
        .execute()
      return { created: true }
    })
  }

  /** Removes the caller's subscription with this endpoint; nothing to remove is fine (idempotent). */
  async unsubscribe (identity: Identity, endpoint: string): Promise<void> {
    await this.deps.db.deleteFrom('push_subscriptions')
      .where('identity_key', '=', identityKey(identity)).where('endpoint', '=', endpoint).execute()
  }
}

/** The subscription ids of each of these identities (identity key → ids; absent: none). */
export async function subscriptionIdsOf (db: Db, keys: readonly string[]): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>()
  if (keys.length === 0) return byKey
  const rows = await db.selectFrom('push_subscriptions').select(['id', 'identity_key']).where('identity_key', 'in', [...new Set(keys)]).execute()
  for (const row of rows) byKey.set(row.identity_key, [...(byKey.get(row.identity_key) ?? []), row.id])
  return byKey
}

export async function findSubscription (db: Db, id: string): Promise<{ endpoint: string, p256dh: string, auth: string } | undefined> {
  return await db.selectFrom('push_subscriptions').select(['endpoint', 'p256dh', 'auth']).where('id', '=', id).executeTakeFirst()
}

export async function removeSubscription (db: Db, id: string): Promise<void> {
  await db.deleteFrom('push_subscriptions').where('id', '=', id).execute()
}
