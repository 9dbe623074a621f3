// Owns the WebSocket frame vocabulary: TypeBox schemas for every frame each way, and parsing client frames into typed values or error frames.
import { Type, type Static, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { AttachmentIds, ChatSummary, ClientMessageId, DbInteger, Message, MessageText } from '../chat/schemas.js'
import type { ErrorCode } from '../errors.js'

// Client → server.

export const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  message_text: MessageText,
  // Required on sockets: it is how the sender matches an ack to what it sent, and what makes a resend after a reconnect safe.
  client_message_id: ClientMessageId,
  attachment_ids: Type.Optional(AttachmentIds)
})
export const TypingFrame = Type.Object({ type: Type.Literal('typing'), is_typing: Type.Boolean() })
export const ReadFrame = Type.Object({ type: Type.Literal('read'), up_to_seq: Type.Optional(DbInteger(0)) })
export const PingFrame = Type.Object({ type: Type.Literal('ping') })
/** A fresh token for the same user before the current one expires; the socket then lives until the new exp. */
export const AuthFrame = Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 8192 }) })

export const ClientFrame = Type.Union([MessageFrame, TypingFrame, ReadFrame, PingFrame, AuthFrame])
export type ClientFrame = Static<typeof ClientFrame>
export type ClientFrameType = ClientFrame['type']

// Server → client.

export const HistoryFrame = Type.Object({
  type: Type.Literal('history'),
  messages: Type.Array(Message),
  complete: Type.Boolean({ description: 'False on every page of a catch-up but the last' })
})
export const ChatPresenceFrame = Type.Object({ type: Type.Literal('presence'), online: Type.Array(Type.String()) })
export const AckFrame = Type.Object({ type: Type.Literal('ack'), client_message_id: Type.String(), message: Message })
export const MessageEventFrame = Type.Object({ type: Type.Literal('message'), message: Message })
export const TypingEventFrame = Type.Object({ type: Type.Literal('typing'), user_id: Type.String(), is_typing: Type.Boolean() })
export const ReadEventFrame = Type.Object({ type: Type.Literal('read'), user_id: Type.String(), last_read_seq: Type.Integer() })
export const PongFrame = Type.Object({ type: Type.Literal('pong') })
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
  message: Type.String(),
  client_message_id: Type.Optional(Type.String())
})
export const ChatUpdatedFrame = Type.Object({ type: Type.Literal('chat_updated'), chat: ChatSummary })
/** Chat and inbox sockets: a claim merged from_chat_id into to_chat_id (from_chat_id answers 404 from now on). */
export const ChatMergedFrame = Type.Object({
  type: Type.Literal('chat_merged'),
  from_chat_id: Type.String({ format: 'uuid' }),
  to_chat_id: Type.String({ format: 'uuid' })
})
export const InboxPresenceFrame = Type.Object({ type: Type.Literal('presence'), user_id: Type.String(), online: Type.Boolean() })
export const AuthOkFrame = Type.Object({
  type: Type.Literal('auth_ok'),
  exp: Type.Integer({ description: "The new token's exp (seconds since the epoch): the socket is closed with 4001 then" })
})

export const ServerFrame = Type.Union([
  HistoryFrame, ChatPresenceFrame, AckFrame, MessageEventFrame, TypingEventFrame, ReadEventFrame, PongFrame, ErrorFrame,
  ChatUpdatedFrame, InboxPresenceFrame, AuthOkFrame, ChatMergedFrame
])
export type ServerFrame = Static<typeof ServerFrame>
export type ErrorFrame = Static<typeof ErrorFrame>

export interface FrameError { code: ErrorCode, message: string, client_message_id?: string }

export type ParsedFrame = { ok: true, frame: ClientFrame } | { ok: false, error: FrameError }

const byType: Record<ClientFrameType, TSchema> = { message: MessageFrame, typing: TypingFrame, read: ReadFrame, ping: PingFrame, auth: AuthFrame }
const validators = Object.fromEntries(
  Object.entries(byType).map(([type, schema]) => [type, Compile(schema)])
) as Record<ClientFrameType, ReturnType<typeof Compile>>

const fail = (code: ErrorCode, message: string, clientMessageId?: unknown): ParsedFrame => ({
  ok: false,
  error: typeof clientMessageId === 'string' ? { code, message, client_message_id: clientMessageId } : { code, message }
})

/** One text frame to a typed client frame, or the error frame that answers it; `accepted` is what this socket understands. */
export function parseClientFrame (raw: string, accepted: readonly ClientFrameType[]): ParsedFrame {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return fail('invalid_json', 'Frame is not valid JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('validation_failed', 'Frame must be a JSON object with a "type"')
  }
  const { type, client_message_id: clientMessageId } = value as Record<string, unknown>
  if (typeof type !== 'string') return fail('validation_failed', 'Frame must have a string "type"', clientMessageId)
  if (!(accepted as readonly string[]).includes(type)) {
    return fail('unknown_type', `Unknown frame type "${type.slice(0, 40)}"; expected one of ${accepted.join(', ')}`, clientMessageId)
  }
  const validator = validators[type as ClientFrameType]
  if (!validator.Check(value)) {
    const first = validator.Errors(value)[0]
    const where = first === undefined || first.instancePath === '' ? 'frame' : first.instancePath.slice(1).replace(/\//g, '.')
    return fail('validation_failed', `${where} ${first?.message ?? 'is invalid'}`, clientMessageId)
  }
  return { ok: true, frame: value as ClientFrame }
}
