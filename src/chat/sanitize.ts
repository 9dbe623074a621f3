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

/**
 * Strips to plain text until stable, so that entity-encoded markup ("&lt;script&gt;") cannot come back out as a tag.
 * A lone "a < b" survives as text; anything a browser would parse as an element does not.
 */
export function toPlainText (input: string): string {
  let text = input.replace(/\r\n?/g, '\n')
  for (let round = 0; round < 5; round++) {
    const next = unescapeSanitizerOutput(sanitizeHtml(text, STRIP_ALL))
    if (next === text) break
    text = next
  }
  return text.replace(CONTROL_CHARACTERS, '').trim()
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
