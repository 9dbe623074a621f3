// Message text cleaning: the text is stored as typed, yet markup in any disguise never comes out live, and the limits count characters.
import { htmlTagNames } from 'html-tag-names'
import { mathmlTagNames } from 'mathml-tag-names'
import { svgTagNames } from 'svg-tag-names'
import t from 'tap'
import { AppError } from '../../src/errors.js'
import { cleanMessageText, MAX_MESSAGE_LENGTH, toPlainText } from '../../src/chat/sanitize.js'

const KNOWN_ELEMENTS = new Set([...htmlTagNames, ...svgTagNames, ...mathmlTagNames].map((name) => name.toLowerCase()))

/**
 * The first piece of `text` that an HTML tokenizer would turn into something live if the text were inserted as HTML,
 * or null: a comment, declaration or processing instruction ("<!", "<?"); a tag or end tag naming an element a
 * browser knows or a custom element ("-"); any tag carrying attributes (event handlers work on any element). A bare
 * unknown tag such as "<M>" only makes an inert unknown element, and an unterminated one at the end makes nothing.
 */
function liveMarkup (text: string): string | null {
  const opener = /<[!?]/.exec(text)
  if (opener !== null) return text.slice(opener.index, opener.index + 20)
  for (const match of text.matchAll(/<\/?([A-Za-z][^\t\n\f\r />]*)/g)) {
    const name = match[1] as string
    const rest = text.slice((match.index ?? 0) + match[0].length)
    const attributes = /^[\t\n\f\r /]*([^>]?)/.exec(rest)?.[1] ?? ''
    if (KNOWN_ELEMENTS.has(name.toLowerCase()) || name.includes('-') || attributes !== '') {
      return text.slice(match.index, (match.index ?? 0) + 40)
    }
  }
  return null
}

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
    // Entities are text: never decoded, so they can never decode into a tag, and they show exactly as typed.
    ['&lt;script&gt;alert(1)&lt;/script&gt;hi', '&lt;script&gt;alert(1)&lt;/script&gt;hi'],
    ['&#60;script&#62;alert(1)&#60;/script&#62;hi', '&#60;script&#62;alert(1)&#60;/script&#62;hi'],
    ['&#x3c;img src=x onerror=alert(1)&#x3e;hi', '&#x3c;img src=x onerror=alert(1)&#x3e;hi'],
    ['&lt;img src=x onerror=alert(1)&gt;hi', '&lt;img src=x onerror=alert(1)&gt;hi'],
    // Unknown names with attributes (handlers work on any element), custom elements, upper case, SVG and MathML.
    ['<M onclick=alert(1)>x</M>', 'x</M>'],
    ['<xss onpointerenter=alert(1) style=display:block>hi', 'hi'],
    ['<x/onfocus=alert(1) autofocus tabindex=1>hi', 'hi'],
    ['<my-widget>hi</my-widget>', 'hi'],
    ['<SCRIPT>alert(1)</SCRIPT>hi', 'hi'],
    ['<svg><animate onbegin=alert(1) attributeName=x dur=1s>hi', 'hi'],
    ['<math><mi xlink:href="javascript:alert(1)">hi</mi></math>', 'hi'],
    ['<image src=x onerror=alert(1)>hi', 'hi'],
    ['<M><script>alert(1)</script></M>', '<M></M>'],
    // A known element is markup even unterminated, and so is any tag with attributes.
    ['a<b', 'a'],
    ['if x<y onclick=alert(1)', 'if x'],
    // Bidi controls that would hide a tag's shape from a reader are removed before any markup is looked for.
    ['<\u202escript>alert(1)</script>hi', 'hi'],
    // Control characters that would close up into a tag once removed, raw and entity-encoded.
    ['<\u0001script>alert(1)<\u0001/script>hi', null],
    ['<&#1;img src=x onerror=alert(1)>hi', null],
    ['<&#13;script>alert(1)</script>hi', null],
    ['<\u007fimg src=x onerror=alert(1)>hi', null],
    ['<&#x9f;img src=x onerror=alert(1)>hi', null]
  ]
  for (const [input, expected] of corpus) {
    const output = toPlainText(input)
    t.equal(liveMarkup(output), null, `no live markup from ${JSON.stringify(input)}: ${JSON.stringify(output)}`)
    if (expected !== null) t.equal(output, expected, JSON.stringify(input))
  }
})

t.test('markup hidden under any depth of entity encoding never decodes into a tag', async (t) => {
  for (let levels = 1; levels <= 14; levels++) {
    const input = encodeHtml('<script>alert(1)</script>', levels)
    const output = toPlainText(input)
    t.equal(liveMarkup(output), null, `${levels} levels: ${JSON.stringify(output.slice(0, 60))}`)
    t.equal(output, input, 'kept as typed: entities are text')
  }
})

t.test('random mixes of markup fragments never produce live markup', async (t) => {
  // Deterministic (fixed-seed) search over the characters that build tags, entities and control-character tricks.
  const fragments = ['<', '>', '/', 'script', 'img', ' ', '&', 'lt;', 'gt;', 'amp;', '#60;', '#x3c;', '\u0001', '\r', '!', '--',
    'a', '=', '"', '?', '&#1;', '&#13;', '\n', '&lt', '&amp', '\u007f', 'M', 'y', 'svg', 'x-y', 'on', '\u202e', '\t', "'"]
  let seed = 20261121
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const failures: string[] = []
  for (let i = 0; i < 20_000; i++) {
    let input = ''
    for (let j = 1 + next(25); j > 0; j--) input += fragments[next(fragments.length)]
    const output = toPlainText(input)
    if (liveMarkup(output) !== null) failures.push(`${JSON.stringify(input)} → ${JSON.stringify(output)}`)
    if (toPlainText(output) !== output) failures.push(`not stable: ${JSON.stringify(input)} → ${JSON.stringify(output)}`)
  }
  t.same(failures.slice(0, 5), [], 'no input yields live markup, and cleaning what was cleaned changes nothing')
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

t.test('text that merely looks like markup is stored as typed (#19)', async (t) => {
  const kept = [
    'Sizes: <M> or <L>?',
    'x<y>z',
    'Tom &amp; Jerry',
    'AT&T, R&D, &nbsp; &copy; &#169; &lt;3',
    'Is <XL> in stock? </XL>',
    'use <Enter> then <Tab>',
    '<3 <3 <3',
    'x<y',
    'is x<y?',
    '1 <2> 3',
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    '<<M>>',
    'Emoji <😀> and 中文 <文>'
  ]
  for (const text of kept) t.equal(cleanMessageText(text), text, text)
})

t.test('unpaired surrogates become U+FFFD, bidi overrides and isolates are removed, marks and joiners stay', async (t) => {
  t.equal(cleanMessageText('a\ud800b\udc00c'), 'a\ufffdb\ufffdc')
  t.equal(cleanMessageText('😀\ud83d'), '😀\ufffd', 'a pair is kept, the half after it is replaced')
  t.equal(cleanMessageText('a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j'), 'abcdefghij')
  t.equal(cleanMessageText('\u200fשלום\u200e ok'), '\u200fשלום\u200e ok', 'directional marks are not overrides')
  t.equal(cleanMessageText('👨\u200d👩\u200d👧 ✌\ufe0f'), '👨\u200d👩\u200d👧 ✌\ufe0f')
})

t.test('control characters go, newlines and tabs stay, the ends are trimmed', async (t) => {
  t.equal(cleanMessageText('  a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg  '), 'abcdefg')
  t.equal(cleanMessageText('one\r\ntwo\rthree\n\tfour'), 'one\ntwo\nthree\n\tfour')
  t.equal(cleanMessageText('\n\t  padded  \t\n'), 'padded')
})

t.test('empty after cleaning is empty_message', async (t) => {
  for (const input of ['', '   ', '\n\t \r\n', '\u0001\u0002', '<b></b>', '<script>alert(1)</script>', '<p> </p>',
    '\u200b', '\u200b\u200c\u200d\u2060\ufeff', '\u00a0\u2003\u3000', '\u2800', '\u3164\u115f', '\ufe0f', '\u202e\u2066', '\u{e0041}']) {
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
