// The grouped inbox's summary cache: a hit only for the version printed, the size bound, and what goes first when full.
import t from 'tap'
import { SummaryCache, type CachedSummary } from '../../src/chat/summary-cache.js'

const summary = (version: string, json = `{"v":"${version}"}`): CachedSummary => ({ version, json, bytes: Buffer.byteLength(json), unread: 0, groupTime: '2026-01-01T00:00:00.000Z' })
const text = (found: CachedSummary | undefined): string | undefined => found === undefined ? undefined : found.json
/** Bytes one entry of `summary(x)` with a one-character version is charged: its JSON plus the fixed overhead. */
const ONE = summary('x').bytes + 160

t.test('a summary is found only under the row version it was printed from', async (t) => {
  const cache = new SummaryCache(10 * ONE)
  cache.set('a', summary('1'))
  t.equal(text(cache.get('a', '1')), '{"v":"1"}')
  t.equal(cache.get('a', '2'), undefined, 'the row changed since')
  t.equal(cache.get('b', '1'), undefined, 'another chat')
  cache.set('a', summary('2'))
  t.equal(cache.get('a', '1'), undefined, 'the older version is gone')
  t.equal(text(cache.get('a', '2')), '{"v":"2"}')
  t.equal(cache.size, 1)
  t.equal(cache.heldBytes, ONE, 'replacing charges the new entry only')
  cache.set('b', summary('1', '"é 🚲"'))
  t.equal(cache.heldBytes, ONE + 9 + 160, 'a summary is charged its UTF-8 bytes')
})

t.test('the cache stays within its bytes; the least recently stored or read goes first', async (t) => {
  const cache = new SummaryCache(3 * ONE)
  for (const id of ['a', 'b', 'c']) cache.set(id, summary('1'))
  cache.set('d', summary('1'))
  t.same(['a', 'b', 'c', 'd'].map((id) => cache.get(id, '1') === undefined), [true, false, false, false], 'a went')
  t.equal(cache.heldBytes, 3 * ONE)
  const fresh = new SummaryCache(3 * ONE)
  for (const id of ['a', 'b', 'c', 'd']) fresh.set(id, summary('1'))
  fresh.get('c', '1')
  fresh.set('e', summary('1'))
  t.same(['b', 'c', 'd', 'e'].map((id) => fresh.get(id, '1') !== undefined), [false, true, true, true], 'b, the least recently used, went; c, read, stayed')
  fresh.set('f', summary('1'))
  t.equal(fresh.size, 3)
  t.ok(fresh.heldBytes <= 3 * ONE, 'within its bytes')
  t.ok(fresh.get('f', '1') !== undefined, 'the entry just stored is kept')
  const small = new SummaryCache(ONE)
  small.set('x', summary('1', '"' + 'x'.repeat(2 * ONE) + '"'))
  t.equal(small.size, 0, 'a summary larger than the whole cache is not kept')
  t.equal(small.heldBytes, 0)
})

t.test('a full cache keeps turning over: the newest entries stay, the oldest go, the bound holds', async (t) => {
  const cache = new SummaryCache(1000 * ONE)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20_000; i++) cache.set(`chat-${i}`, summary('x'))
    t.equal(cache.size, 1000, `round ${round}: a thousand entries`)
    t.equal(cache.heldBytes, 1000 * ONE)
    t.ok(cache.get('chat-19000', 'x') !== undefined && cache.get('chat-18999', 'x') === undefined, 'the last thousand stored are the ones kept')
  }
})
