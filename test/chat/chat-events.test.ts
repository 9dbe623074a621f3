// ChatEvents: what ChatService reports after a commit, and that a failing reaction never fails the change it reports.
import t from 'tap'
import { combineEvents, type ChatEvents } from '../../src/chat/chat-events.js'
import { ChatService } from '../../src/chat/chat-service.js'
import type { Broker } from '../../src/realtime/broker.js'
import { fanOutEvents } from '../../src/realtime/fan-out-events.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'

const app = await buildTestApp(t, testConfig(t))
const warnings: string[] = []
const waiting: Array<{ msg: string, resolve: () => void }> = []
const log = {
  warn: (_obj: object, msg: string) => {
    warnings.push(msg)
    for (const w of waiting.filter((w) => w.msg === msg)) w.resolve()
  }
}
/** Resolves once msg has been logged (a publish failure is logged after the ack, when the broker's promise settles). */
const warned = async (msg: string): Promise<void> => {
  if (warnings.includes(msg)) return
  await new Promise<void>((resolve) => { waiting.push({ msg, resolve }) })
}
const seller = { userId: 'events-seller', registered: true }
const buyer = { userId: 'events-buyer', registered: true }

function serviceWith (...parts: Array<Partial<ChatEvents>>): ChatService {
  return new ChatService({
    db: app.db,
    events: combineEvents(log, ...parts),
    listingLookup: null,
    log,
    sendBatch: { maxBatch: 10, maxInFlight: 1, waitingPerExtraBatch: 16 }
  })
}

t.test('every implementation hears each committed change, once, with what changed', async (t) => {
  const heard: string[] = []
  const service = serviceWith({
    messageStored: ({ message, sender, origin }) => { heard.push(`stored ${message.seq} from ${sender.userId} via ${String(origin)}`) },
    readAdvanced: ({ reader, role, lastReadSeq }) => { heard.push(`read ${lastReadSeq} by ${reader.userId} (${role})`) },
    chatChanged: (chat) => { heard.push(`changed at ${chat.last_seq}`) }
  })
  const { chat } = await service.openChat(buyer, 'events-listing-1', seller.userId)
  await service.sendMessage(buyer, chat.id, 'hello', 'm1', 'conn-1')
  await service.sendMessage(buyer, chat.id, 'hello', 'm1', 'conn-1')
  await service.markRead(seller, chat.id, null)
  await service.markRead(seller, chat.id, null)
  t.same(heard, ['changed at 0', 'stored 1 from events-buyer via conn-1', 'changed at 1', 'read 1 by events-seller (seller)', 'changed at 1'],
    'a retried send and a re-read report nothing')
})

t.test('a reaction that throws is logged; the send still succeeds and later reactions still run', async (t) => {
  let counted = 0
  const service = serviceWith({ messageStored: () => { throw new Error('webhook down') } }, { messageStored: () => { counted++ } })
  const { chat } = await service.openChat(buyer, 'events-listing-2', seller.userId)
  const sent = await service.sendMessage(buyer, chat.id, 'still delivered', null)
  t.equal(sent.message.message_text, 'still delivered')
  t.equal(counted, 1)
  t.ok(warnings.includes('a chat event handler failed; the change itself is committed'))
})

t.test('a broker that rejects publishes never fails a send, and no summary is built for nobody', async (t) => {
  const published: string[] = []
  const broker = {
    publishChat: async (chatId: string) => { published.push(`chat ${chatId}`); throw new Error('redis gone') },
    publishUser: async (key: string) => { published.push(`user ${key}`); throw new Error('redis gone') },
    mayHaveUserListeners: (key: string) => key === 'u:events-seller'
  } as unknown as Broker
  const service = serviceWith(fanOutEvents(broker, log))
  const { chat } = await service.openChat(buyer, 'events-listing-3', seller.userId)
  const sent = await service.sendMessage(buyer, chat.id, 'acked anyway', null)
  t.equal(sent.message.seq, 1)
  // The empty chat was no news to the seller; the first message is.
  t.same(published, [`chat ${chat.id}`, 'user u:events-seller'], "only the seller's inbox could be listening")
  await warned('publish failed; clients will catch up on reconnect')
  t.pass('the failed publish is logged as a warning')
})
