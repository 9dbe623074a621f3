// Owns the safety domain's outgoing events: the port reports and spam holds are told to (webhook delivery plugs in here), and a no-op default.
import type { Identity } from '../auth/identity.js'

export interface ChatReportedEvent {
  report_id: string
  chat_id: string
  reporter: Identity
  reported: Identity
  reason: string
  seq: number | null
  comment: string | null
}

export interface SpamSuspectedEvent {
  sender: Identity
  chat_id: string
  /** How many other chats got the same text in the window. */
  other_chats: number
}

/** Called after the change is committed (or, for spam, after the send was refused); must not block or throw. */
export interface SafetyEvents {
  chatReported: (event: ChatReportedEvent) => void
  spamSuspected: (event: SpamSuspectedEvent) => void
}

export const noSafetyEvents: SafetyEvents = {
  chatReported: () => {},
  spamSuspected: () => {}
}
