// A chat socket whose setup cannot read the database is closed with 1013 (try again later), not 1011, and logged as a warning, not an error.
import { Writable } from 'node:stream'
import t from 'tap'
import { DatabaseUnavailableError } from '../../src/db/database.js'
import { listenTestApp, testConfig } from '../fixtures/app.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { registeredUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'

t.test('the database goes away between the handshake and the history', async (t) => {
  const lines: Array<{ level: number, msg: string }> = []
  const logStream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { LOG_LEVEL: 'info' }), { logStream })
  const buyer = mintBuyer(app)
  const seller = registeredUser('seller-setup-unavailable')
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  // The participant check before the upgrade succeeds; the history read after it finds the database gone.
  app.chat.historyOf = async () => { throw new DatabaseUnavailableError('database unreachable') }

  const socket = await connect(t, `${wsUrl}/api/chat/ws/${created.json().id as string}?token=${buyer.token}`)
  t.same(await socket.closed, { code: 1013, reason: 'Service unavailable; try again later' }, 'the client is told to come back later')
  t.ok(lines.some((line) => line.level === 40 && line.msg === 'websocket setup failed: database unavailable'), 'logged as a warning')
  t.notOk(lines.some((line) => line.level >= 50), 'nothing at error level')
})
