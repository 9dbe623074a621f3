// The "Try it from a browser console" sample in docs/websocket.md works as printed: pasted into a demo page's console,
// the buyer gets an ack, the seller's chat socket the typing and the message, and the seller's inbox the chat update.
import t from 'tap'
import type { Tokens } from 'marked'
import { noChromium, startHarness } from '../fixtures/browser.js'
import { loadDoc, section } from '../fixtures/markdown.js'

type Logged = [string, { type: string } & Record<string, any>]

t.test('the browser console sample runs as printed', { skip: noChromium }, async (t) => {
  const block = section(loadDoc('docs/websocket.md'), 'Try it from a browser console').find((token): token is Tokens.Code => token.type === 'code')
  t.ok(block !== undefined && block.lang === 'js', 'a js block under the heading')
  const sample = block?.text ?? ''
  t.match(sample, 'ws://localhost:4000', 'the sample names the dev address')

  const h = await startHarness(t)
  const { page } = await h.open()
  await page.goto(h.url + '/demo/')
  // The one change a reader on another address makes: where the service runs.
  const runnable = sample.replaceAll('ws://localhost:4000', h.url.replace(/^http/, 'ws'))
  await page.evaluate(`(() => {
    window.__logged = []
    console.log = (...args) => { window.__logged.push(args) }
  })()`)
  await page.evaluate(`(async () => {\n${runnable}\n})()`)

  // A function, not a string: the page's CSP forbids eval, which string predicates need.
  await page.waitForFunction((expected) => {
    const logged = ((globalThis as any).__logged ?? []) as Array<[string, { type?: string } | undefined]>
    return expected.every(([label, type]) => logged.some(([who, frame]) => who === label && frame?.type === type))
  }, [['buyer', 'ack'], ['seller', 'message'], ['seller inbox', 'chat_updated']], { timeout: 15_000 })
  const logged = await page.evaluate('window.__logged') as Logged[]
  const frames = (label: string): Array<Logged[1]> => logged.filter(([who]) => who === label).map(([, frame]) => frame)

  t.match(frames('buyer').find((frame) => frame.type === 'ack'), { message: { message_text: 'Is it still available?', seq: 1 } }, 'the buyer is acked')
  t.match(frames('seller').find((frame) => frame.type === 'message'), { message: { message_text: 'Is it still available?' } }, 'the seller gets the message')
  const sellerFrames = frames('seller')
  const typing = sellerFrames.findIndex((frame) => frame.type === 'typing' && frame.is_typing === true)
  t.ok(typing !== -1 && typing < sellerFrames.findIndex((frame) => frame.type === 'message'), 'the seller saw the buyer typing first')
  t.match(frames('seller inbox').find((frame) => frame.type === 'chat_updated'), { chat: { seller_id: 'demo-seller-1', last_message: 'Is it still available?' } }, "the seller's inbox is updated")
})
