// Owns the buyer's list of chats: loaded over REST (GET /chats/my?role=buyer) and kept live by the inbox socket, whose
// chat_updated frames carry each chat's unread count for the buyer; the launcher's total and the list are drawn from it.
import type { Ctx } from '../core/context.js'
import type { ChatSummary, InFrame } from '../core/protocol.js'
import { Socket } from '../core/socket.js'

/** changed(incoming): the list changed; incoming is how many new messages from sellers that was (0 for anything else). */
export type Changed = (incoming: number) => void

export interface MyChats {
  readonly all: Map<string, ChatSummary>
  /** Newest activity first. */
  sorted: () => ChatSummary[]
  stop: () => void
}

const activity = (c: ChatSummary): number => Date.parse(c.last_message_time ?? c.updated_at) || 0

export function myChats (ctx: Ctx, changed: Changed): MyChats {
  const all = new Map<string, ChatSummary>()
  /** Frames that arrive while a snapshot loads are newer than it (null: no load running). */
  let live: Map<string, ChatSummary> | null = null
  const load = async (): Promise<void> => {
    const mine = live = new Map()
    try {
      const r = await ctx.api<{ chats: ChatSummary[] }>('GET', '/chats/my?role=buyer&limit=100')
      if (live !== mine) return // a newer load superseded this one
      all.clear()
      for (const c of r.chats) all.set(c.id, c)
      for (const [id, c] of mine) all.set(id, c)
      changed(0)
    } catch {} finally { if (live === mine) live = null }
  }
  const onFrame = (f: InFrame): void => {
    if (f.type === 'chat_merged') { all.delete(f.from_chat_id); live?.delete(f.from_chat_id); changed(0); return }
    if (f.type !== 'chat_updated' || f.chat.role !== 'buyer') return
    const c = f.chat
    const was = all.get(c.id)
    all.set(c.id, c)
    live?.set(c.id, c)
    const fromSeller = c.unread_count > 0 && c.last_message_sender_id === c.counterpart_id && c.last_seq > (was?.last_seq ?? 0)
    changed(fromSeller ? Math.max(1, c.unread_count - (was?.unread_count ?? 0)) : 0)
  }
  // A reconnect reloads: an inbox cannot tell which updates it missed while it was down.
  const sock: Socket = new Socket(ctx, () => ctx.wsUrl('inbox'), { open: () => { sock.ready(); void load() }, frame: onFrame })
  sock.start()
  return {
    all,
    sorted: () => Array.from(all.values()).sort((a, b) => activity(b) - activity(a)),
    stop: () => { sock.stop(); all.clear() }
  }
}
