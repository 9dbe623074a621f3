// Messages typed without a network (or before a reload) are kept, shown as pending and delivered exactly once.
import t from 'tap'
import { messageTexts, noChromium, openBuyerChat, seller, sendMessage, startHarness } from '../fixtures/browser.js'

interface Message { message_text: string, client_message_id: string | null }

t.test('offline messages reach the seller exactly once', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { context, page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Before the tunnel')
  await buyer.locator('.msg.mine[data-seq]').waitFor()

  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg .txt', { hasText: 'Before the tunnel' }).waitFor()
  const chatId = await sellerPage.locator('.chat').getAttribute('data-chat-id')

  await context.setOffline(true)
  await buyer.locator('.panel .status[data-state="reconnecting"]').waitFor()
  t.match(await buyer.locator('.panel .status').textContent(), /Reconnecting/, 'a visible reconnecting state')
  await sendMessage(buyer, 'Offline one')
  await sendMessage(buyer, 'Offline two')
  await buyer.locator('.msg.pending .tick[data-tick="pending"]').nth(1).waitFor()
  t.equal(await buyer.evaluate('Object.keys(localStorage).filter(k => k.startsWith("mchat:pending:")).map(k => JSON.parse(localStorage[k]).length)[0]'),
    2, 'the queue is persisted')

  await context.setOffline(false)
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  await buyer.locator('.msg.pending').first().waitFor({ state: 'detached' })
  await sellerPage.locator('.main .msg .txt', { hasText: 'Offline two' }).waitFor()
  t.same(await messageTexts(sellerPage, '.main'), ['Before the tunnel', 'Offline one', 'Offline two'],
    'the seller sees each message once, in order')
  t.same(await messageTexts(buyer), ['Before the tunnel', 'Offline one', 'Offline two'], 'the buyer too')

  const stored = await h.rest<{ messages: Message[] }>(seller.token, 'GET', `/chats/${chatId}/messages`)
  t.same(stored.messages.map((m) => m.message_text), ['Before the tunnel', 'Offline one', 'Offline two'],
    'exactly those messages are stored')
  t.equal(new Set(stored.messages.map((m) => m.client_message_id)).size, 3, 'each with its own client_message_id')
})

t.test('a message queued before a reload is sent after it, once', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'First')
  await buyer.locator('.msg.mine[data-seq]').waitFor()

  // The service's socket accepts the connection but never answers: the widget cannot resume, so it queues.
  let silent = true
  await buyer.routeWebSocket(/\/api\/chat\/ws\//, (ws) => { if (!silent) ws.connectToServer() })
  await buyer.reload()
  await buyer.locator('.panel .status[data-state="connecting"]').waitFor()
  await sendMessage(buyer, 'Queued across a reload')
  await buyer.locator('.msg.pending').waitFor()
  await buyer.reload()
  await buyer.locator('.msg.pending .txt', { hasText: 'Queued across a reload' }).waitFor()

  silent = false
  await buyer.reload()
  await buyer.locator('.msg.mine[data-seq] .txt', { hasText: 'Queued across a reload' }).waitFor()
  t.equal(await buyer.locator('.msg.pending').count(), 0, 'nothing left pending')
  const chatId = await buyer.evaluate('Object.entries(localStorage).find(([k]) => k.startsWith("mchat:last:"))[1]')
  const stored = await h.rest<{ messages: Message[] }>(seller.token, 'GET', `/chats/${JSON.parse(String(chatId)).chat_id}/messages`)
  t.same(stored.messages.map((m) => m.message_text), ['First', 'Queued across a reload'], 'stored exactly once')
})

t.test('rate-limited messages show a clear error, then arrive once each', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, { WS_MESSAGE_RATE: '1', WS_MESSAGE_BURST: '2' })
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  const texts = ['one', 'two', 'three', 'four', 'five']
  for (const text of texts) await sendMessage(buyer, text)
  await buyer.locator('.panel .err', { hasText: 'too fast' }).waitFor()
  t.ok(await buyer.locator('.msg.pending').count() > 0, 'the refused ones stay queued, shown as pending')
  await buyer.locator('.msg.mine[data-seq] .txt', { hasText: 'five' }).waitFor()
  await buyer.locator('.msg.pending').first().waitFor({ state: 'detached' })
  t.ok(await buyer.locator('.panel .err').isHidden(), 'the error clears once they go through')
  const { chats } = await h.rest<{ chats: Array<{ id: string }> }>(seller.token, 'GET', '/chats/my?role=seller')
  const stored = await h.rest<{ messages: Message[] }>(seller.token, 'GET', `/chats/${chats[0]?.id ?? ''}/messages`)
  t.same(stored.messages.map((m) => m.message_text), texts, 'each stored once, in order')
})
