// Owns what the browser says on the wire: the server's frame and record types (types only), and the frames it builds.
import type { ChatSummary, Message } from '../../src/chat/schemas.js'
import type { ErrorCode } from '../../src/errors.js'
import type { ClientFrame, ServerFrame } from '../../src/realtime/frames.js'

export type { ChatSummary, ClientFrame, ErrorCode, Message, ServerFrame }

/** Everything the front-end sends: exactly the server's client frames (checked by tsc). */
export type OutFrame = ClientFrame
/** Everything the front-end may receive. */
export type InFrame = ServerFrame

/** Codes the front-end shows text for: the server's codes plus its own (no connection, unknown). */
export type ShownCode = ErrorCode | 'network' | 'generic' | 'token_expired' | 'cors' | 'contact_info_masked'

export const messageFrame = (text: string, clientMessageId: string, attachmentIds?: string[]): ClientFrame =>
  attachmentIds?.length
    ? { type: 'message', message_text: text, client_message_id: clientMessageId, attachment_ids: attachmentIds }
    : { type: 'message', message_text: text, client_message_id: clientMessageId }
export const typingFrame = (isTyping: boolean): ClientFrame => ({ type: 'typing', is_typing: isTyping })
export const readFrame = (upToSeq: number): ClientFrame => ({ type: 'read', up_to_seq: upToSeq })
export const pingFrame = (): ClientFrame => ({ type: 'ping' })
export const authFrame = (token: string): ClientFrame => ({ type: 'auth', token })
