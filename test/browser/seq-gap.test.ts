// A live message that skips a seq is never trusted: both front-ends fetch the missing one first (no reconnect needed).
import t from 'tap'
import type { ChatEvent } from '../../src/realtime/broker.js'
import { messageTexts, noChromium, openBuyerChat, seller, sendMessage, startHarness } from '../fixtures/browser.js'

t.test('a message lost between the server and the sockets is fetched when the next one shows the gap', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Is it still for sale?')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg[data-seq="1"]').waitFor()
  await sellerPage.locator('.main .status[data-state="open"]').waitFor({ state: 'attached' })
  const chatId = await sellerPage.locator('.chat').getAttribute('data-chat-id')

  // From here on: new sockets (a reconnect) and gap fetches on either page.
  const sockets = { buyer: 0, seller: 0 }
  const gapFetches: string[] = []
  for (const [name, page] of [['buyer', buyer], ['seller', sellerPage]] as const) {
    page.on('websocket', (ws) => { if (!ws.url().includes('/ws/inbox')) sockets[name]++ })
    page.on('request', (request) => { if (/\/messages\?.*after_seq=1\b/.test(request.url())) gapFetches.push(name) })
  }

  // The broker loses one publish, as it does when Redis is down for a moment: the message is stored, nobody is told.
  const publishChat = h.app.broker.publishChat.bind(h.app.broker)
  h.app.broker.publishChat = async (id: string, event: ChatEvent) => {
    if (event.type === 'message' && event.message.message_text === 'Yes, lost on the way') throw new Error('simulated publish failure')
    await publishChat(id, event)
  }
  await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: 'Yes, lost on the way', client_message_id: 'rest-2' })
  await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: 'Come and see it today', client_message_id: 'rest-3' })

  const expected = ['Is it still for sale?', 'Yes, lost on the way', 'Come and see it today']
  await buyer.locator('.msg[data-seq="2"] .txt', { hasText: 'lost on the way' }).waitFor()
  t.same(await messageTexts(buyer), expected, 'the buyer widget (chat.js) shows the lost message, in its place')
  await sellerPage.locator('.main .msg[data-seq="2"] .txt', { hasText: 'lost on the way' }).waitFor()
  t.same(await messageTexts(sellerPage, '.main'), expected, 'so does the seller inbox (seller-chats.js)')
  t.same(gapFetches.sort(), ['buyer', 'seller'], 'each asked for what follows the last seq it held without a hole')
  t.same(sockets, { buyer: 0, seller: 0 }, 'over REST, without reconnecting')
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
})
