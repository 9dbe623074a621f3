// Message text cleaning: markup in any disguise comes out as harmless plain text, and the limits count characters.
import t from 'tap'
import { AppError } from '../../src/errors.js'
import { cleanMessageText, MAX_MESSAGE_LENGTH, toPlainText } from '../../src/chat/sanitize.js'

// What a browser would start parsing as markup: "<" then a letter (tag), "</" then a letter (end tag), "<!" or "<?".
const LIVE_MARKUP = /<\/?[a-z]|<[!?]/i

function encodeHtml (text: string, levels: number): string {
  let out = text
  for (let i = 0; i < levels; i++) out = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return out
}

function codeOf (fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (error) {
    return error instanceof AppError ? error.code : `unexpected ${String(error)}`
  }
}

t.test('hostile payloads come back as harmless text', async (t) => {
  const corpus: Array<[string, string | null]> = [
    // [input, exact expected output, or null when only harmlessness is asserted]
    ['<script>alert(1)</script>hi', 'hi'],
    ['<img src=x onerror=alert(1)>hi', 'hi'],
    ['<svg/onload=alert(1)>hi', 'hi'],
    ['<a href="javascript:alert(1)">click</a>', 'click'],
    ['<iframe src="//evil"></iframe>hi', 'hi'],
    ['<<script>script>alert(1)<</script>/script>hi', null],
    ['<scr<script>ipt>alert(1)</script>hi', null],
    ['<style>body{display:none}</style>hi', 'hi'],
    ['<!-- <script>alert(1)</script> -->hi', 'hi'],
    ['<![CDATA[<script>alert(1)</script>]]>hi', null],
    ['<b onmouseover=alert(1)>bold</b>', 'bold'],
    ['<img src=x onerror=alert(1)//', null],
    ['&lt;script&gt;alert(1)&lt;/script&gt;hi', 'hi'],
    ['&#60;script&#62;alert(1)&#60;/script&#62;hi', 'hi'],
    ['&#x3c;img src=x onerror=alert(1)&#x3e;hi', 'hi'],
    ['&lt;img src=x onerror=alert(1)&gt;hi', 'hi'],
    // Control characters that would close up into a tag once removed, raw and entity-encoded.
    ['<\u0001script>alert(1)<\u0001/script>hi', null],
    ['<&#1;img src=x onerror=alert(1)>hi', null],
    ['<&#13;script>alert(1)</script>hi', null],
    ['<\u007fimg src=x onerror=alert(1)>hi', null],
    ['<&#x9f;img src=x onerror=alert(1)>hi', null]
  ]
  for (const [input, expected] of corpus) {
    const output = toPlainText(input)
    t.notMatch(output, LIVE_MARKUP, `no live markup from ${JSON.stringify(input)}: ${JSON.stringify(output)}`)
    if (expected !== null) t.equal(output, expected, JSON.stringify(input))
  }
})

t.test('markup hidden under any depth of entity encoding never decodes into a tag', async (t) => {
  for (let levels = 1; levels <= 14; levels++) {
    const output = toPlainText(encodeHtml('<script>alert(1)</script>', levels))
    t.notMatch(output, LIVE_MARKUP, `${levels} levels: ${JSON.stringify(output.slice(0, 60))}`)
  }
})

t.test('random mixes of markup fragments never produce live markup', async (t) => {
  // Deterministic (fixed-seed) search over the characters that build tags, entities and control-character tricks.
  const fragments = ['<', '>', '/', 'script', 'img', ' ', '&', 'lt;', 'gt;', 'amp;', '#60;', '#x3c;', '\u0001', '\r', '!', '--',
    'a', '=', '"', '?', '&#1;', '&#13;', '\n', '&lt', '&amp', '\u007f']
  let seed = 20261121
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const failures: string[] = []
  for (let i = 0; i < 20_000; i++) {
    let input = ''
    for (let j = 1 + next(25); j > 0; j--) input += fragments[next(fragments.length)]
    const output = toPlainText(input)
    if (LIVE_MARKUP.test(output)) failures.push(`${JSON.stringify(input)} → ${JSON.stringify(output)}`)
  }
  t.same(failures.slice(0, 5), [], 'no input yields live markup')
})

t.test('ordinary text survives exactly', async (t) => {
  const kept = [
    'Is it still available?',
    'a < b and c > d',
    'I <3 this, 5 > 3 & 2 < 4',
    'Say "hello" & \'bye\'',
    'Привет! Ещё доступно?',
    'Emoji 😀👍🏽🇺🇦 ok',
    'line one\nline two\twith a tab',
    'Price: 10$ — 20€ · 30₽',
    // no "<" or "&": the path that skips the HTML parser must keep quotes and ">" too
    'Say "hi" > bye, it\'s 5 > 3',
    '> quoted reply "as typed"'
  ]
  for (const text of kept) t.equal(cleanMessageText(text), text, text)
})

t.test('control characters go, newlines and tabs stay, the ends are trimmed', async (t) => {
  t.equal(cleanMessageText('  a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg  '), 'abcdefg')
  t.equal(cleanMessageText('one\r\ntwo\rthree\n\tfour'), 'one\ntwo\nthree\n\tfour')
  t.equal(cleanMessageText('\n\t  padded  \t\n'), 'padded')
})

t.test('empty after cleaning is empty_message', async (t) => {
  for (const input of ['', '   ', '\n\t \r\n', '\u0001\u0002', '<b></b>', '<script>alert(1)</script>', '<p> </p>']) {
    t.equal(codeOf(() => cleanMessageText(input)), 'empty_message', JSON.stringify(input))
  }
})

t.test('the limit is 2000 characters after cleaning, counted as characters, not UTF-16 units', async (t) => {
  t.equal(MAX_MESSAGE_LENGTH, 2000)
  t.equal(cleanMessageText('a'.repeat(2000)), 'a'.repeat(2000))
  t.equal(codeOf(() => cleanMessageText('a'.repeat(2001))), 'message_too_long')

  const emoji = '😀'.repeat(2000)
  t.equal(emoji.length, 4000, 'each emoji is two UTF-16 units')
  t.equal(cleanMessageText(emoji), emoji, '2000 emoji are 2000 characters')
  t.equal(codeOf(() => cleanMessageText(`${emoji}😀`)), 'message_too_long')

  const cyrillic = 'Ж'.repeat(2000)
  t.equal(cleanMessageText(cyrillic), cyrillic)
  t.equal(codeOf(() => cleanMessageText(`${cyrillic}Ж`)), 'message_too_long')

  t.equal(cleanMessageText(`<b>${'a'.repeat(2000)}</b>`), 'a'.repeat(2000), 'tags do not count')
  t.equal(cleanMessageText(`   ${'a'.repeat(2000)}   `), 'a'.repeat(2000), 'trimmed whitespace does not count')
})
