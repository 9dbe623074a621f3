// Owns who is online: the contract, and the in-process tracker that counts a person's open connections on this instance.
import type { Broker } from './broker.js'

export interface Presence {
  /** One more open connection (chat or inbox) of this person on this instance. */
  connect: (userKey: string, userId: string) => Promise<void>
  /** One connection fewer; at zero everywhere the person is offline. */
  disconnect: (userKey: string, userId: string) => Promise<void>
  /** The subset of these people online anywhere right now. */
  onlineAmong: (userKeys: string[]) => Promise<Set<string>>
  close: () => Promise<void>
}

/** Single-instance presence: a counter per person; the 0↔1 transitions are published through the broker. */
export function createMemoryPresence (broker: Broker): Presence {
  const connections = new Map<string, number>()
  return {
    async connect (userKey, userId) {
      const count = (connections.get(userKey) ?? 0) + 1
      connections.set(userKey, count)
      if (count === 1) await broker.publishPresence({ user_key: userKey, user_id: userId, online: true })
    },
    async disconnect (userKey, userId) {
      const count = (connections.get(userKey) ?? 0) - 1
      if (count > 0) {
        connections.set(userKey, count)
        return
      }
      if (!connections.delete(userKey)) return
      await broker.publishPresence({ user_key: userKey, user_id: userId, online: false })
    },
    async onlineAmong (userKeys) {
      return new Set(userKeys.filter((key) => connections.has(key)))
    },
    async close () { connections.clear() }
  }
}
