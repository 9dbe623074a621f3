// Long histories open at the newest 50 messages; scrolling up loads the older ones without losing the reader's place.
import t from 'tap'
import { messageTexts, noChromium, openBuyerChat, seller, sendMessage, startHarness } from '../fixtures/browser.js'

t.test('scrolling up loads older messages', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'hi')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  const { chats } = await h.rest<{ chats: Array<{ id: string }> }>(seller.token, 'GET', '/chats/my?role=seller')
  const chatId = chats[0]?.id ?? ''
  for (let i = 1; i <= 70; i++) {
    await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: `seed ${i}`, client_message_id: `seed-${i}` })
  }

  await buyer.reload()
  await buyer.locator('.msg .txt', { hasText: 'seed 70' }).waitFor()
  t.equal(await buyer.locator('.msg').count(), 50, 'opens with the newest 50')
  t.equal((await messageTexts(buyer))[0], 'seed 21')

  await buyer.locator('.panel .list').hover()
  await buyer.mouse.wheel(0, -20000)
  await buyer.locator('.msg .txt', { hasText: /^hi$/ }).waitFor()
  const texts = await messageTexts(buyer)
  t.same(texts, ['hi', ...Array.from({ length: 70 }, (_, i) => `seed ${i + 1}`)], 'every message once, in order')
  t.ok(await buyer.locator('.panel .list').evaluate((el) => el.scrollTop > 0), 'the reader stays where they were')
})
