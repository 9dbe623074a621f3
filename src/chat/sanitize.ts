// Owns turning what a person typed into the message text we store: as typed, minus what is unstorable, invisible trickery or live markup.
import { htmlTagNames } from 'html-tag-names'
import { mathmlTagNames } from 'mathml-tag-names'
import sanitizeHtml from 'sanitize-html'
import { svgTagNames } from 'svg-tag-names'
import { AppError } from '../errors.js'
import { MAX_MESSAGE_LENGTH } from '../protocol/limits.js'

// Re-exported: server code imports the limit from here; the browser bundle imports it from src/protocol/limits.ts.
export { MAX_MESSAGE_LENGTH }

const STRIP_ALL: sanitizeHtml.IOptions = { allowedTags: [], allowedAttributes: {}, disallowedTagsMode: 'discard' }
// Everything below U+0020 except tab and newline (U+0000 included: PostgreSQL cannot store it), plus DEL and the
// C1 range; \r\n is folded to \n first. Bidi embedding/override (U+202A–U+202E) and isolate (U+2066–U+2069) controls
// reorder the text around them, which makes a message read differently from what it says ("Trojan Source").
// eslint-disable-next-line no-control-regex
const REMOVED_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g
// What renders as nothing: whitespace, format characters (zero-width space/joiners, BOM), default-ignorable code
// points (variation selectors, Hangul fillers, tag characters) and the blank Braille pattern. Kept inside a message
// (a zero-width joiner builds emoji), but a message of nothing else is empty.
const INVISIBLE_ONLY = /^[\s\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]*$/u

// Names a browser builds a real element from (lower case, as its tokenizer compares them).
const KNOWN_ELEMENTS = new Set([...htmlTagNames, ...svgTagNames, ...mathmlTagNames].map((name) => name.toLowerCase()))

/**
 * A tag-like sequence with nothing but a name, `<M>` or `</M>` (or `<M` ending the text), exactly as the HTML
 * tokenizer reads one: the name runs to whitespace, "/" or ">". Inserted as HTML it would make an element only if
 * the name is one a browser knows, or a custom element (a "-" in the name) that the page may have defined; any
 * other name is an inert unknown element with no attributes, so it is kept as the text the person typed
 * ("Sizes: <M> or <L>?", "x<y>z", "x<y").
 */
const BARE_TAG = /<\/?([A-Za-z][^\t\n\f />]*)(?:>|$)/g

function isTypedText (name: string): boolean {
  return !name.includes('-') && !KNOWN_ELEMENTS.has(name.toLowerCase())
}

// sanitize-html returns HTML-escaped text; these are the only entities it writes for text.
function unescapeSanitizerOutput (text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
}

/**
 * One pass of sanitize-html over text in which everything meant as text is escaped first: every "&" (so "&amp;"
 * and "&lt;" stay the characters typed, never decoded) and the "<" of each bare unknown tag. What the parser still
 * reads as markup is then real markup (a known element, a tag with attributes, a comment, a declaration) and is
 * dropped, script and style with their content.
 */
function removeMarkupOnce (text: string): string {
  const escaped = text.replace(/&/g, '&amp;')
    .replace(BARE_TAG, (tag: string, name: string) => isTypedText(name) ? `&lt;${tag.slice(1)}` : tag)
  return unescapeSanitizerOutput(sanitizeHtml(escaped, STRIP_ALL))
}

// Each round can only remove characters; removing one tag can join the text around it into another
// ("<<script>script>"), so rounds repeat until nothing changes. The cap bounds what an adversarial body can cost.
const MAX_ROUNDS = 10

// Anything that could still open markup: "<" then a letter, "/", "!" or "?". A whole run of "<" goes, so that no
// "<" is left standing before the letter ("<<a" must not become "<a").
const MARKUP_OPENER = /<+(?=[A-Za-z/!?])/g

/**
 * The text a person typed, made storable and safe to hand to any renderer: newlines folded to \n, unpaired UTF-16
 * surrogates replaced by U+FFFD (what PostgreSQL would store anyway, so the ack equals history), control and bidi
 * override characters removed, and live markup removed. Text that merely contains "<", ">" or "&" is kept exactly:
 * "x<y>z", "a < b", "<3", "Tom &amp; Jerry". Clients must still render message text as text (textContent).
 */
export function toPlainText (input: string): string {
  let text = input.toWellFormed().replace(/\r\n?/g, '\n').replace(REMOVED_CHARACTERS, '')
  // Without "<" nothing can open a tag: the common chat line skips the HTML parser (the costliest step of a send).
  if (!text.includes('<')) return text.trim()
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = removeMarkupOnce(text)
    if (next === text) return text.trim()
    text = next
  }
  // Still shrinking after the cap: only hostile input nests tags this deep. Drop every "<" that could open markup
  // rather than run the parser without bound.
  return text.replace(MARKUP_OPENER, '').trim()
}

/** The message text to store, or the error a client sees. Length counts characters (code points), not UTF-16 units. */
export function cleanMessageText (input: string): string {
  const text = toPlainText(input)
  if (INVISIBLE_ONLY.test(text)) throw new AppError('empty_message', 'Message is empty')
  const length = [...text].length
  if (length > MAX_MESSAGE_LENGTH) {
    throw new AppError('message_too_long', `Message is ${length} characters; the limit is ${MAX_MESSAGE_LENGTH}`)
  }
  return text
}

/** The text beside photos: may be empty (a photo needs no words), otherwise cleaned like any message. */
export function cleanCaption (input: string): string {
  const text = toPlainText(input)
  return INVISIBLE_ONLY.test(text) ? '' : cleanMessageText(input)
}
