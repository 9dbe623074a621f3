// A client trusts a chat's stream only up to its last contiguous seq: a skipped seq is a hole to fetch, not news.
import t from 'tap'
import { SeqTracker } from '../../web/core/seq-tracker.js'

t.test('the newest page anchors the range; live messages extend it', async (t) => {
  const seqs = new SeqTracker()
  seqs.addAll([23, 21, 22])
  t.equal(seqs.top, 23)
  t.notOk(seqs.hasGap)
  seqs.add(24)
  t.equal(seqs.top, 24, 'next seq extends the contiguous range')
})

t.test('a skipped seq is a gap until the missing message arrives', async (t) => {
  const seqs = new SeqTracker()
  seqs.addAll([1, 2, 3])
  seqs.add(5)
  t.ok(seqs.hasGap, 'seq 5 after 3 means 4 is missing')
  t.equal(seqs.top, 3, 'resume (after_seq) from 3, not 5')
  seqs.add(6)
  t.equal(seqs.top, 3, 'newer live messages do not paper over the hole')
  seqs.addAll([4, 5])
  t.equal(seqs.top, 6, 'the fetched page closes the hole and joins what was held above it')
  t.notOk(seqs.hasGap)
})

t.test('an empty chat starts at 0; older pages never move the top', async (t) => {
  const empty = new SeqTracker()
  empty.addAll([])
  t.equal(empty.top, 0)
  empty.add(2)
  t.ok(empty.hasGap, 'seq 2 first in an empty chat: 1 was lost')
  const seqs = new SeqTracker()
  seqs.addAll([51, 52])
  seqs.addAll([1, 2, 3])
  t.equal(seqs.top, 52)
  t.notOk(seqs.hasGap, 'a page scrolled up to is below the top, not above it')
})
