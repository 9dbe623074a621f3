// Owns turning whatever a client sends into the plain text we store: no tags, no control characters, bounded length.
import sanitizeHtml from 'sanitize-html'
import { AppError } from '../errors.js'

export const MAX_MESSAGE_LENGTH = 2000

const STRIP_ALL: sanitizeHtml.IOptions = { allowedTags: [], allowedAttributes: {}, disallowedTagsMode: 'discard' }
// Everything below U+0020 except tab and newline, plus DEL and the C1 range; \r\n is folded to \n first.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g

// sanitize-html returns HTML-escaped text; these are the only entities it writes.
function unescapeSanitizerOutput (text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
}

// Each round peels one level of entity encoding, so a cap bounds the work an adversarial body can cause.
const MAX_ROUNDS = 10

const stripControlCharacters = (text: string): string => text.replace(CONTROL_CHARACTERS, '')

// Without "<" nothing can open a tag and without "&" nothing can decode into one: sanitize-html would hand such text
// back unchanged, so the common chat line skips the HTML parser (the costliest step of a send).
const MARKUP_OR_ENTITY = /[<&]/

/**
 * Strips to plain text until stable, so that entity-encoded markup ("&lt;script&gt;") cannot come back out as a tag.
 * Control characters go inside every round: removed afterwards, "<\u0001script>" would close up into a tag
 * that the sanitizer never saw. A lone "a < b" survives as text; anything a browser would parse as an element does not.
 */
export function toPlainText (input: string): string {
  let text = stripControlCharacters(input.replace(/\r\n?/g, '\n'))
  if (!MARKUP_OR_ENTITY.test(text)) return text.trim()
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const sanitized = sanitizeHtml(text, STRIP_ALL)
    const next = stripControlCharacters(unescapeSanitizerOutput(sanitized))
    if (next === text) return text.trim()
    text = next
  }
  // Still decoding after the cap: only hostile input nests entities this deep. Keep the escaped form, which holds
  // no raw "<" at all, rather than unescaping one more level into live markup.
  return stripControlCharacters(sanitizeHtml(text, STRIP_ALL)).trim()
}

/** The message text to store, or the error a client sees. Length counts characters (code points), not UTF-16 units. */
export function cleanMessageText (input: string): string {
  const text = toPlainText(input)
  if (text.length === 0) throw new AppError('empty_message', 'Message is empty')
  const length = [...text].length
  if (length > MAX_MESSAGE_LENGTH) {
    throw new AppError('message_too_long', `Message is ${length} characters; the limit is ${MAX_MESSAGE_LENGTH}`)
  }
  return text
}
