// The same-text window on one instance: counts other chats per sender and text, forgets after ten minutes, stays bounded.
import t from 'tap'
import { LocalTextWindow, SAME_TEXT_WINDOW_MS } from '../../src/safety/text-window.js'

function clockedWindow (t: { teardown: (fn: () => unknown) => void }, maxSends?: number): { window: LocalTextWindow, clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const window = new LocalTextWindow({ now: () => clock.now, ...(maxSends === undefined ? {} : { maxSends }) })
  t.teardown(async () => { await window.close() })
  return { window, clock }
}

t.test('counts the other chats a sender\'s text went into, and records the chat only under the limit', async (t) => {
  const { window } = clockedWindow(t)
  t.equal(await window.claim('a:spammer', 'fp', 'c1', 2), 0)
  t.equal(await window.claim('a:spammer', 'fp', 'c2', 2), 1)
  t.equal(await window.claim('a:spammer', 'fp', 'c3', 2), 2, 'two others: held')
  t.equal(await window.claim('a:spammer', 'fp', 'c3', 2), 2, 'a held chat was not counted in')
  t.equal(await window.claim('a:spammer', 'fp', 'c1', 2), 1, 'a chat it already went to is not another chat')
  t.equal(await window.claim('a:someone-else', 'fp', 'c3', 2), 0, 'per sender')
  t.equal(await window.claim('a:spammer', 'other', 'c3', 2), 0, 'per text')
  await window.add('a:spammer', 'fp', 'c3')
  t.equal(await window.claim('a:spammer', 'fp', 'c4', 2), 3, 'added past the limit, it counts')
})

t.test('a send leaves the count ten minutes after it was made (to the second)', async (t) => {
  const { window, clock } = clockedWindow(t)
  await window.claim('a:s', 'fp', 'c1', 5)
  clock.now += SAME_TEXT_WINDOW_MS / 2
  await window.claim('a:s', 'fp', 'c2', 5)
  t.equal(await window.claim('a:s', 'fp', 'c9', 5), 2)
  clock.now += SAME_TEXT_WINDOW_MS / 2 + 1000
  t.equal(await window.claim('a:s', 'fp', 'c9', 5), 1, 'c1 left the window, c2 did not')
  clock.now += SAME_TEXT_WINDOW_MS + 1000
  t.equal(await window.claim('a:x', 'other', 'c1', 5), 0)
  t.equal(window.size(), 1, 'sends that left the window are forgotten')
})

t.test('bounded: past its size the oldest sends go first, and a burst of spam is still held', async (t) => {
  const { window, clock } = clockedWindow(t, 10)
  await window.claim('a:spammer', 'spam', 'c1', 2)
  await window.claim('a:spammer', 'spam', 'c2', 2)
  for (let i = 0; i < 20; i++) {
    clock.now += 1000
    await window.claim(`a:buyer-${i}`, 'hello', `chat-${i}`, 2)
  }
  t.equal(window.size(), 10, 'no more than its size')
  t.equal(await window.claim('a:spammer', 'spam', 'c3', 2), 0, 'the oldest sends were forgotten')
  t.equal(await window.claim('a:spammer', 'spam', 'c4', 2), 1)
  t.equal(await window.claim('a:spammer', 'spam', 'c5', 2), 2, 'held: the window still spans the burst')
  t.equal(await window.claim('a:buyer-19', 'hello', 'elsewhere', 2), 1, 'recent sends are still counted')
})
