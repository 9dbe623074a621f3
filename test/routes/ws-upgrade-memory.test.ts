// An open socket keeps nothing of the HTTP request that opened it (each idle socket's memory is the service's capacity).
import type { IncomingMessage } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { listenTestApp } from '../fixtures/app.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { registeredUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('after the upgrade the HTTP request can be collected, and the sockets still work', async (t) => {
  const { app, wsUrl } = await listenTestApp(t)
  const upgrades: Array<WeakRef<IncomingMessage>> = []
  app.websocketServer.on('connection', (_socket: unknown, request: IncomingMessage) => { upgrades.push(new WeakRef(request)) })

  const buyer = mintBuyer(app)
  const seller = registeredUser('seller-upgrade-memory')
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  const chatId = (created.json() as { id: string }).id
  const chat = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`, {}, buyer.id)
  for (;;) if ((await chat.next('history')).complete === true) break
  const inbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, seller.id)
  await inbox.barrier()
  t.equal(upgrades.length, 2, 'both upgrades seen')

  // a WeakRef's target stays alive until the end of the job that read it
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  t.same(upgrades.map((ref) => ref.deref() === undefined), [true, true], 'neither request is still held by its open socket')

  chat.send({ type: 'message', message_text: 'still here', client_message_id: 'm-1' })
  t.equal((await chat.next('ack')).message.seq, 1, 'the chat socket still sends')
  t.equal((await inbox.next('chat_updated')).chat.last_seq, 1, 'the inbox socket still receives')
})
