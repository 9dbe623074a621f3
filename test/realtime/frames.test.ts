// Parsing client frames: every malformed frame maps to a stable error code, and valid frames come out typed.
import t from 'tap'
import { parseClientFrame } from '../../src/realtime/frames.js'

const chat = ['message', 'typing', 'read', 'ping'] as const

t.test('valid frames parse', async (t) => {
  t.same(parseClientFrame('{"type":"message","message_text":"hi","client_message_id":"c1"}', chat),
    { ok: true, frame: { type: 'message', message_text: 'hi', client_message_id: 'c1' } })
  t.same(parseClientFrame('{"type":"read"}', chat), { ok: true, frame: { type: 'read' } })
  t.same(parseClientFrame('{"type":"read","up_to_seq":0}', chat), { ok: true, frame: { type: 'read', up_to_seq: 0 } })
  t.same(parseClientFrame('{"type":"typing","is_typing":false}', chat), { ok: true, frame: { type: 'typing', is_typing: false } })
})

t.test('bad frames get a code, a readable message, and the client_message_id when there is one', async (t) => {
  const cases: Array<[string, string, string | undefined]> = [
    ['', 'invalid_json', undefined],
    ['{"type":', 'invalid_json', undefined],
    ['null', 'validation_failed', undefined],
    ['[]', 'validation_failed', undefined],
    ['{"type":7}', 'validation_failed', undefined],
    ['{"type":"nope","client_message_id":"c9"}', 'unknown_type', 'c9'],
    ['{"type":"message","message_text":"hi","client_message_id":7}', 'validation_failed', undefined],
    ['{"type":"message","message_text":["hi"],"client_message_id":"c2"}', 'validation_failed', 'c2'],
    ['{"type":"read","up_to_seq":1.5}', 'validation_failed', undefined],
    ['{"type":"typing"}', 'validation_failed', undefined]
  ]
  for (const [raw, code, clientMessageId] of cases) {
    const parsed = parseClientFrame(raw, chat)
    if (parsed.ok) {
      t.fail(`${raw} was accepted`)
      continue
    }
    t.equal(parsed.error.code, code, raw)
    t.equal(parsed.error.client_message_id, clientMessageId, `${raw}: client_message_id`)
    t.ok(parsed.error.message.length > 0)
  }
  const typed = parseClientFrame('{"type":"message","message_text":5,"client_message_id":"c"}', chat)
  t.match(typed, { ok: false, error: { message: /message_text/ } }, 'the message names the field')
})

t.test('a socket only accepts its own frame types', async (t) => {
  t.match(parseClientFrame('{"type":"message","message_text":"hi","client_message_id":"c1"}', ['ping']), { ok: false, error: { code: 'unknown_type' } })
  t.match(parseClientFrame('{"type":"ping"}', ['ping']), { ok: true })
})
