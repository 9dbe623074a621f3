// The conversation repaints only what an event changed: someone typing touches no message, a new one adds one node.
import t from 'tap'
import { noChromium, openBuyerChat, sendMessage, startHarness } from '../fixtures/browser.js'

t.test('typing and new messages leave the existing message nodes alone', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  for (const text of ['one', 'two', 'three']) await sendMessage(buyer, text)
  await buyer.locator('.msg.mine[data-seq="3"]').waitFor()
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg[data-seq="3"]').waitFor()
  await buyer.locator('.msg.mine .tick[data-tick="read"]').nth(2).waitFor()

  // Every change under the buyer's message list from now on, by the message it happened in.
  await buyer.evaluate(`(() => {
    const list = document.querySelector('market-chat-widget').shadowRoot.querySelector('.list')
    window.__mutations = []
    new MutationObserver((records) => {
      for (const r of records) {
        const msg = (r.target.nodeType === 1 ? r.target : r.target.parentElement).closest('.msg')
        window.__mutations.push(r.type + ':' + (msg ? msg.dataset.seq : r.target === list ? 'list' : 'other') +
          (r.addedNodes.length ? '+' + Array.from(r.addedNodes).map((n) => n.dataset && n.dataset.seq).join(',') : ''))
      }
    }).observe(list, { subtree: true, childList: true, attributes: true, characterData: true })
  })()`)

  await sellerPage.locator('.main textarea').pressSequentially('Hello the', { delay: 30 })
  await buyer.locator('.panel .typing', { hasText: 'typing' }).waitFor()
  t.same(await buyer.evaluate('window.__mutations'), [], 'typing changed nothing in the message list')

  await sellerPage.locator('.main textarea').press('Enter')
  await buyer.locator('.msg[data-seq="4"]').waitFor()
  t.same(await buyer.evaluate('window.__mutations'), ['childList:list+4'], 'the reply added its own node and touched no other')
})
