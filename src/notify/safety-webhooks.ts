// Owns turning safety events (a report, a spam hold) into queued webhooks, so the marketplace's moderators hear of them.
import type { Logger } from '../logger.js'
import type { SafetyEvents } from '../safety/safety-events.js'

type Enqueue = (type: string, data: Record<string, unknown>) => Promise<void>

/** Fire and forget: the report is already committed (or the send already refused); a queue failure is logged, never thrown. */
export function safetyWebhookEvents (enqueue: Enqueue, log: Pick<Logger, 'warn'>): SafetyEvents {
  const send = (type: string, data: Record<string, unknown>): void => {
    enqueue(type, data).catch((error: unknown) => { log.warn({ err: error, type }, 'could not queue a safety webhook') })
  }
  return {
    chatReported: (event) => {
      send('chat.reported', {
        report_id: event.report_id,
        chat_id: event.chat_id,
        reason: event.reason,
        seq: event.seq,
        comment: event.comment,
        reporter_id: event.reporter.userId,
        reporter_is_registered: event.reporter.registered,
        reported_id: event.reported.userId,
        reported_is_registered: event.reported.registered
      })
    },
    spamSuspected: (event) => {
      send('spam.suspected', {
        chat_id: event.chat_id,
        sender_id: event.sender.userId,
        sender_is_registered: event.sender.registered,
        other_chats: event.other_chats
      })
    }
  }
}
