// Owns counting a message's length the way the server does (src/chat/sanitize.ts): code points after cleaning.

// The server removes these before counting (controls except tab/newline, C1, bidi overrides and isolates).
// eslint-disable-next-line no-control-regex
const REMOVED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g

/** Code points of the text as the server will store it: \r\n folded, removed characters gone, trimmed. */
export function messageLength (text: string): number {
  return Array.from(text.replace(/\r\n?/g, '\n').replace(REMOVED, '').trim()).length
}
