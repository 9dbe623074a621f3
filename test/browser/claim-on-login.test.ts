// The buyer widget on login: chatManager.setUser claims the stored guest session once, the conversation reopens as the account's (merged when the account had one), a failed claim is retried, logout forgets everything.
import t from 'tap'
import type { Page } from 'playwright-core'
import { messageTexts, noChromium, openBuyerChat, sendMessage, SELLER_ID, startHarness, type Harness } from '../fixtures/browser.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'

/** The account already asked about the same bike from another device: the chat a guest claim merges into. */
async function askedFromPhone (h: Harness, user: TestUser): Promise<{ id: string }> {
  const accountChat = await h.rest<{ id: string }>(user.token, 'POST', '/chats', { listing_id: 'bike-42', seller_id: SELLER_ID })
  await h.rest(user.token, 'POST', `/chats/${accountChat.id}/messages`, { message_text: 'From my phone', client_message_id: 'phone-1' })
  return accountChat
}

const storedKeys = async (page: Page): Promise<string[]> =>
  await page.evaluate('Object.keys(localStorage).filter((k) => k.startsWith("mchat:"))') as string[]

t.test('setUser merges the guest conversation into the account and reopens it under its new id', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const user = registeredUser(`buyer-claim-${process.pid}`)
  const accountChat = await askedFromPhone(h, user)

  const { page } = await h.open()
  await openBuyerChat(page, h.url)
  await sendMessage(page, 'As a guest')
  await page.locator('.msg.mine[data-seq="1"]').waitFor()
  t.ok((await storedKeys(page)).some((k) => k.startsWith('mchat:anon:')), 'a guest session is stored')

  await page.evaluate(`window.chatManager.setUser(${JSON.stringify(user.token)})`)
  await page.locator('.msg.mine[data-seq="2"]').waitFor()
  t.same(await messageTexts(page), ['From my phone', 'As a guest'], 'one conversation, both messages, in time order, both mine')
  t.notOk((await storedKeys(page)).some((k) => k.startsWith('mchat:anon:')), 'the claimed guest session is forgotten')
  const last = await page.evaluate('JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith(\'mchat:last:\'))))') as { chat_id: string }
  t.equal(last.chat_id, accountChat.id, 'the widget remembers the merged chat')

  await sendMessage(page, 'Signed in now')
  await page.locator('.msg.mine[data-seq="3"]').waitFor()
  const history = await h.rest<{ messages: Array<{ sender_id: string, message_text: string }> }>(user.token, 'GET', `/chats/${accountChat.id}/messages`)
  t.same(history.messages.map((m) => m.sender_id), [user.id, user.id, user.id], 'everything is the account\'s')

  await page.evaluate('window.chatManager.logout()')
  t.same(await storedKeys(page), [], 'logout forgets everything the widget stored')
})

t.test('a claim that could not be sent is retried on the next call, and happens once', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const user = registeredUser(`buyer-retry-${process.pid}`)
  const { page } = await h.open()
  await openBuyerChat(page, h.url)
  await sendMessage(page, 'Hello')
  await page.locator('.msg.mine[data-seq="1"]').waitFor()

  let claims = 0
  let offline = true
  await page.route('**/api/chat/anonymous/claim', async (route) => {
    claims++
    if (offline) await route.abort('internetdisconnected')
    else await route.continue()
  })
  await page.evaluate(`window.chatManager.setUser(${JSON.stringify(user.token)}).catch(() => {})`)
  t.equal(claims, 1)
  t.ok((await storedKeys(page)).some((k) => k.startsWith('mchat:anon:')), 'the guest session is kept for a later try')

  offline = false
  await page.evaluate("window.chatManager.openChat('demo-seller', 'bike-42')")
  await page.locator('.msg.mine[data-seq="1"]').waitFor()
  t.equal(claims, 2, 'claimed on the next call')
  t.notOk((await storedKeys(page)).some((k) => k.startsWith('mchat:anon:')))
  t.same(await messageTexts(page), ['Hello'], 'the guest conversation is the account\'s now')
  await page.evaluate("window.chatManager.openChat('demo-seller', 'bike-42')")
  t.equal(claims, 2, 'and never again')
})

t.test('a message queued as a guest is sent as the account after the claim, into the merged chat, once', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const user = registeredUser(`buyer-queue-${process.pid}`)
  const accountChat = await askedFromPhone(h, user)

  const { page } = await h.open()
  await openBuyerChat(page, h.url)
  await sendMessage(page, 'As a guest')
  await page.locator('.msg.mine[data-seq="1"]').waitFor()
  // The service's socket accepts the connection but never answers: what the guest sends now waits in the queue.
  let silent = true
  await page.routeWebSocket(/\/api\/chat\/ws\//, (ws) => { if (!silent) ws.connectToServer() })
  await page.reload()
  await page.locator('.panel .status[data-state="connecting"]').waitFor()
  await sendMessage(page, 'Queued before login')
  await page.locator('.msg.pending').waitFor()

  silent = false
  await page.evaluate(`window.chatManager.setUser(${JSON.stringify(user.token)})`)
  await page.locator('.msg.mine[data-seq="3"]').waitFor()
  t.same(await messageTexts(page), ['From my phone', 'As a guest', 'Queued before login'], 'the queued message went into the merged chat')
  const history = await h.rest<{ messages: Array<{ sender_id: string, message_text: string }> }>(user.token, 'GET', `/chats/${accountChat.id}/messages`)
  t.same(history.messages.map((m) => [m.sender_id, m.message_text]),
    [[user.id, 'From my phone'], [user.id, 'As a guest'], [user.id, 'Queued before login']], 'stored once, as the account\'s')
  await page.locator('.msg.pending').waitFor({ state: 'detached' })
  t.equal(await page.evaluate('Object.keys(localStorage).filter((k) => k.startsWith("mchat:pending:")).reduce((n, k) => n + JSON.parse(localStorage[k]).length, 0)'),
    0, 'no queue is left behind under the guest')
})
