// Creates the chats a scenario drives through the public REST API, with bench-minted user tokens.
import type { BenchChat, Participant } from './load-client.js'
import type { Target } from './target.js'
import { pool } from './http.js'

interface ChatSummary { id: string }

export function participant (target: Target, userId: string): Participant {
  return { userId, token: target.token(userId) }
}

/** `count` chats, each between its own buyer and seller on its own listing, created as the buyer would. */
export async function createChats (target: Target, count: number, runTag: string, concurrency = 16): Promise<BenchChat[]> {
  const indexes = Array.from({ length: count }, (_, i) => i)
  return await pool(indexes, concurrency, async (i) => {
    const buyer = participant(target, `bench-${runTag}-buyer-${i}`)
    const seller = participant(target, `bench-${runTag}-seller-${i}`)
    const res = await target.http.json<ChatSummary>('POST', '/api/chat/chats', buyer.token,
      { listing_id: `bench-${runTag}-listing-${i}`, seller_id: seller.userId })
    if ((res.status !== 201 && res.status !== 200) || typeof res.body?.id !== 'string') {
      throw new Error(`creating chat ${i} failed: ${res.status} ${JSON.stringify(res.body)}`)
    }
    return { id: res.body.id, buyer, seller }
  })
}

export function runTag (): string {
  return Date.now().toString(36).slice(-5) + Math.floor(Math.random() * 1296).toString(36)
}
