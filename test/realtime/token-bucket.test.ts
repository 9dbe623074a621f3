// The per-connection rate limit: a burst goes through, then the sustained rate, never more.
import t from 'tap'
import { TokenBucket } from '../../src/realtime/token-bucket.js'

t.test('a burst, then one token per 1/rate seconds', async (t) => {
  let now = 0
  const bucket = new TokenBucket(2, 3, () => now)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'burst of 3')
  now += 499
  t.equal(bucket.take(), false, 'not yet a whole token after 499 ms at 2/s')
  now += 1
  t.equal(bucket.take(), true, 'one token after 500 ms')
  t.equal(bucket.take(), false)
  now += 60_000
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'an idle minute refills only up to the burst')
})
