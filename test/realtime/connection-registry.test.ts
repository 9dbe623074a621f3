// The heartbeat: every socket is pinged once per period, a slice at a time, and a peer that missed its pong is cut.
import t from 'tap'
import pino from 'pino'
import { ConnectionRegistry, HEARTBEAT_SLICES } from '../../src/realtime/connection-registry.js'
import type { Session } from '../../src/realtime/socket-session.js'

interface FakeSession { userKey: string, chatId: string | null, kind: 'chat', alive: boolean, pings: number, terminated: boolean, ping: () => void, terminate: () => void }

function fakeSession (i: number): FakeSession {
  return {
    userKey: `a:user-${i}`,
    chatId: `chat-${i}`,
    kind: 'chat',
    alive: true,
    pings: 0,
    terminated: false,
    ping () { this.pings++ },
    terminate () { this.terminated = true }
  }
}

t.test('each tick pings one slice; one period pings every socket once; a silent peer is cut at its next turn', async (t) => {
  // a period long enough that the real timer never fires during the test: the ticks are driven by hand
  const registry = new ConnectionRegistry({ heartbeatMs: 3_600_000, closeGraceMs: 1000, log: pino({ level: 'silent' }) })
  const beat = (): void => { (registry as unknown as { beat: () => void }).beat() }
  const sessions = Array.from({ length: HEARTBEAT_SLICES * 20 }, (_, i) => fakeSession(i))
  for (const session of sessions) registry.add(session as unknown as Session)
  t.teardown(() => { for (const session of sessions) registry.remove(session as unknown as Session) })

  const pinged: number[] = []
  for (let tick = 0; tick < HEARTBEAT_SLICES; tick++) {
    const before = sessions.reduce((sum, s) => sum + s.pings, 0)
    beat()
    pinged.push(sessions.reduce((sum, s) => sum + s.pings, 0) - before)
    for (const session of sessions) session.alive = true // every pong came back
  }
  t.same(pinged, Array(HEARTBEAT_SLICES).fill(20), 'each tick pings a slice, never all sockets at once')
  t.ok(sessions.every((s) => s.pings === 1), 'one period pinged every socket exactly once')

  const silent = sessions[7] as FakeSession
  silent.alive = false
  for (let tick = 0; tick < HEARTBEAT_SLICES; tick++) beat()
  t.ok(silent.terminated, 'the peer that did not answer its ping is cut one period later')
  t.equal(sessions.filter((s) => s.terminated).length, 1, 'and only that one')
})
