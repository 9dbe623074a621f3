// Owns handing the stored guest session to a signed-in user (POST /anonymous/claim): once, kept for a later try when it could not be sent.
import { Ctx, type ChatError } from '../core/context.js'
import { load, save } from '../core/storage.js'

export interface ClaimAnswer {
  buyer_id: string
  claimed: number
  merged: number
  merges: Array<{ from_chat_id: string, to_chat_id: string }>
}

/** Worth trying again later: the request never got an answer, or the service or the user's token was not ready. */
const retryLater = (e: ChatError): boolean => e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 401

/**
 * Claims the guest session stored under anonKey for the user's token. The stored guest is forgotten once the
 * service answered for good (claimed, claimed before, or refused); after a network failure or 5xx it stays, and
 * the next call tries again. null: nothing was claimed this time.
 */
export async function claimStoredGuest (base: string, anonKey: string, userToken: string): Promise<ClaimAnswer | null> {
  const saved = load<{ token?: string, buyer_id?: string }>(anonKey)
  if (!saved?.token) return null
  try {
    const answer = await new Ctx(base, userToken).api<ClaimAnswer>('POST', '/anonymous/claim', { anonymous_token: saved.token })
    // POST /anonymous answered {token, buyer_id}, stored as it came: the id the guest's queues are kept under.
    if (saved.buyer_id) moveGuestQueues(saved.buyer_id, answer.buyer_id, answer.merges ?? [])
    save(anonKey, null)
    return answer
  } catch (e) {
    if (!retryLater(e as ChatError)) save(anonKey, null)
    return null
  }
}

/**
 * What the guest had not sent yet (the offline queue, refused messages kept for a retry, drafts) follows its chats to
 * the account, under the merged chat's id where the claim merged one. The queue keeps each client_message_id, and a
 * claim hands the guest's stored messages to the account with theirs, so one the service had stored but not acked is
 * answered with the original when it is resent, not stored twice.
 */
function moveGuestQueues (guestId: string, userId: string, merges: ClaimAnswer['merges']): void {
  const to = new Map(merges.map((m) => [m.from_chat_id, m.to_chat_id]))
  let keys: string[]
  try { keys = Object.keys(localStorage) } catch { return }
  for (const key of keys) {
    const m = /^mchat:(pending|failed|draft):([^:]+):(.+)$/.exec(key)
    if (!m || m[3] !== guestId) continue
    const kind = m[1] as string
    const chatId = m[2] as string
    const target = 'mchat:' + kind + ':' + (to.get(chatId) ?? chatId) + ':' + userId
    const value = load<unknown>(key)
    if (kind === 'draft') {
      if (!load<string>(target)) save(target, value)
    } else if (Array.isArray(value)) {
      save(target, (load<unknown[]>(target) ?? []).concat(value))
    }
    save(key, null)
  }
}

/** Everything the widgets keep in localStorage (guest session, last chat, unsent messages), for logout. */
export function forgetEverything (): void {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith('mchat:')) localStorage.removeItem(key)
  } catch {}
}
