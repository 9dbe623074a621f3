// Owns following the presence of a set of people for one socket: subscribe, take a snapshot, then report only real changes.
import type { Broker, PresenceEvent, Unsubscribe } from './broker.js'
import type { Presence } from './presence.js'

export interface Person { key: string, userId: string }

interface Watched {
  userId: string
  online: boolean
  /** Events that arrived while the snapshot was being read; replayed after it because they may be newer. */
  pending: boolean[] | null
}

export class PresenceWatch {
  private readonly people = new Map<string, Watched>()
  private readonly unsubscribes: Unsubscribe[] = []
  private closed = false

  constructor (
    private readonly broker: Broker,
    private readonly presence: Presence,
    private readonly onChange: (person: Person, online: boolean) => void
  ) {}

  has (key: string): boolean {
    return this.people.has(key)
  }

  isOnline (key: string): boolean {
    return this.people.get(key)?.online === true
  }

  /** Starts following people not followed yet; resolves once their current state is known (changes reported). */
  async watch (people: Person[]): Promise<void> {
    const fresh = people.filter((person) => !this.people.has(person.key))
    if (fresh.length === 0 || this.closed) return
    for (const person of fresh) this.people.set(person.key, { userId: person.userId, online: false, pending: [] })
    // Subscribing before the snapshot means no change can fall between the two.
    await Promise.all(fresh.map(async (person) => {
      const unsubscribe = await this.broker.subscribePresence(person.key, (event) => { this.receive(event) })
      if (this.closed) await unsubscribe()
      else this.unsubscribes.push(unsubscribe)
    }))
    if (this.closed) return
    const online = await this.presence.onlineAmong(fresh.map((person) => person.key))
    for (const person of fresh) {
      const watched = this.people.get(person.key)
      if (watched === undefined) continue
      const pending = watched.pending ?? []
      watched.pending = null
      this.set(person.key, watched, online.has(person.key))
      for (const state of pending) this.set(person.key, watched, state)
    }
  }

  private receive (event: PresenceEvent): void {
    const watched = this.people.get(event.user_key)
    if (watched === undefined || this.closed) return
    if (watched.pending !== null) watched.pending.push(event.online)
    else this.set(event.user_key, watched, event.online)
  }

  private set (key: string, watched: Watched, online: boolean): void {
    if (watched.online === online) return
    watched.online = online
    this.onChange({ key, userId: watched.userId }, online)
  }

  async close (): Promise<void> {
    this.closed = true
    await Promise.all(this.unsubscribes.splice(0).map(async (unsubscribe) => { await unsubscribe() }))
  }
}
