// Owns the attachment domain: uploads (participant check, per-person rate, re-encoding, storing), claiming them for messages, signed delivery, and the sweep of unused uploads.
import { v4 as uuidv4, validate as isUuid } from 'uuid'
import { identityKey, type Identity } from '../auth/identity.js'
import type { Db } from '../chat/chat-repository.js'
import type { ChatAccess } from '../chat/participants.js'
import type { AttachmentRef } from '../chat/schemas.js'
import type { AttachmentRow } from '../db/schema.js'
import { AppError } from '../errors.js'
import * as repo from './attachment-repository.js'
import type { ImageProcessor } from './image-processor.js'
import type { AttachmentStorage } from './storage.js'
import type { UrlSigner, Variant } from './url-signer.js'

export const MAX_ATTACHMENTS_PER_MESSAGE = 10
const SWEEP_BATCH = 200

export interface UploadedAttachment { id: string, content_type: string, size: number, width: number, height: number }

export interface ServedAttachment {
  data: Buffer
  contentType: string
  etag: string
  /** How long a browser may keep it: what remains of a signed URL, or the URL TTL for a header-authorized fetch. */
  maxAgeSeconds: number
}

/** What the send path needs from attachments (ChatService depends on this, not on storage or Fastify). */
export interface MessageAttachments {
  /** Claims the caller's unused uploads of this chat for a message about to be stored; throws a 4xx AppError otherwise. */
  claim: (identity: Identity, chatId: string, messageId: string, ids: readonly string[]) => Promise<AttachmentRef[]>
  /** Gives claimed uploads back when their message was not stored. */
  release: (messageId: string) => Promise<void>
  /** Each message's attachments with freshly signed URLs. */
  refsFor: (messageIds: readonly string[]) => Promise<Map<string, AttachmentRef[]>>
}

export interface AttachmentServiceDeps {
  db: Db
  storage: AttachmentStorage
  processor: ImageProcessor
  signer: UrlSigner
  now: () => number
  unusedTtlSeconds: number
  urlTtlSeconds: number
  /** The caller's access to a chat, or chat_not_found (ChatService.participantChat). */
  participantChat: (identity: Identity, chatId: string) => Promise<ChatAccess>
}

const notFound = (): AppError => new AppError('not_found', 'Attachment not found')
const thumbKey = (id: string): string => `${id}/thumb`

export class AttachmentService implements MessageAttachments {
  constructor (private readonly deps: AttachmentServiceDeps) {}

  /** Checked before the upload is read: an outsider learns nothing and costs nothing. */
  async assertCanUpload (identity: Identity, chatId: string): Promise<void> {
    await this.deps.participantChat(identity, chatId)
  }

  async upload (identity: Identity, chatId: string, bytes: Buffer): Promise<UploadedAttachment> {
    const access = await this.deps.participantChat(identity, chatId)
    const { full, thumb } = await this.deps.processor.process(bytes)
    const id = uuidv4()
    await this.deps.storage.put(id, full.data, full.contentType)
    await this.deps.storage.put(thumbKey(id), thumb.data, thumb.contentType)
    try {
      await repo.insertAttachment(this.deps.db, {
        id,
        chat_id: access.chatId,
        uploader_key: identityKey(identity),
        content_type: full.contentType,
        size: full.data.length,
        width: full.width,
        height: full.height,
        thumb_size: thumb.data.length,
        etag: full.etag,
        thumb_etag: thumb.etag
      })
    } catch (error) {
      await this.deps.storage.delete([id, thumbKey(id)]).catch(() => {})
      throw error
    }
    return { id, content_type: full.contentType, size: full.data.length, width: full.width, height: full.height }
  }

  private ref (row: AttachmentRow): AttachmentRef {
    return {
      id: row.id,
      content_type: row.content_type,
      size: row.size,
      width: row.width,
      height: row.height,
      url: this.deps.signer.url(row.id, 'full'),
      thumb_url: this.deps.signer.url(row.id, 'thumb')
    }
  }

  async claim (identity: Identity, chatId: string, messageId: string, ids: readonly string[]): Promise<AttachmentRef[]> {
    const unique = [...new Set(ids)]
    if (unique.length > MAX_ATTACHMENTS_PER_MESSAGE) {
      throw new AppError('validation_failed', `At most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message`)
    }
    if (!unique.every((id) => isUuid(id))) throw new AppError('attachment_not_found', 'Attachment not found')
    const uploader = identityKey(identity)
    const claimed = await repo.claimAttachments(this.deps.db, unique, chatId, uploader, messageId)
    if (claimed.length === unique.length) return claimed.map((row) => this.ref(row))
    await repo.releaseAttachments(this.deps.db, messageId)
    // Someone outside the chat hears about the chat, as from any chat route.
    await this.deps.participantChat(identity, chatId)
    // Someone else's upload, another chat's, or a swept one all read as missing; only your own used upload says so.
    for (const id of unique) {
      const row = await repo.findAttachment(this.deps.db, id)
      if (row === undefined || row.uploader_key !== uploader || row.chat_id !== chatId) {
        throw new AppError('attachment_not_found', `Attachment ${id} not found in this chat`)
      }
      if (row.message_id !== null) throw new AppError('attachment_already_used', `Attachment ${id} is already part of a message`)
    }
    throw new AppError('attachment_already_used', 'An attachment is already part of a message')
  }

  async release (messageId: string): Promise<void> {
    await repo.releaseAttachments(this.deps.db, messageId)
  }

  async refsFor (messageIds: readonly string[]): Promise<Map<string, AttachmentRef[]>> {
    const byMessage = new Map<string, AttachmentRef[]>()
    for (const row of await repo.attachmentsOfMessages(this.deps.db, messageIds)) {
      const id = row.message_id as string
      const list = byMessage.get(id) ?? []
      list.push(this.ref(row))
      byMessage.set(id, list)
    }
    return byMessage
  }

  /**
   * The bytes for a signed URL, or for a caller whose token makes them a participant (an unused upload: its uploader
   * only). Anything else is 404, whatever the reason.
   */
  async serve (id: string, variant: Variant, auth: { exp?: string, sig?: string, identity: Identity | null }): Promise<ServedAttachment> {
    if (!isUuid(id)) throw notFound()
    let maxAge = this.deps.signer.verify(id, variant, auth.exp, auth.sig)
    const row = await repo.findAttachment(this.deps.db, id)
    if (row === undefined) throw notFound()
    if (maxAge === null) {
      if (auth.identity === null || !await this.mayView(auth.identity, row)) throw notFound()
      maxAge = this.deps.urlTtlSeconds
    }
    const data = await this.deps.storage.get(variant === 'thumb' ? thumbKey(id) : id)
    if (data === null) throw notFound()
    return { data, contentType: row.content_type, etag: variant === 'thumb' ? row.thumb_etag : row.etag, maxAgeSeconds: maxAge }
  }

  private async mayView (identity: Identity, row: AttachmentRow): Promise<boolean> {
    if (row.message_id === null) return identityKey(identity) === row.uploader_key
    try {
      await this.deps.participantChat(identity, row.chat_id)
      return true
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 404) return false
      throw error
    }
  }

  /** Deletes uploads no message used within the unused TTL (as of `at`); returns how many went. */
  async sweepUnused (at: number = this.deps.now()): Promise<number> {
    const cutoff = new Date(at - this.deps.unusedTtlSeconds * 1000)
    let total = 0
    for (;;) {
      const ids = await repo.unusedBefore(this.deps.db, cutoff, SWEEP_BATCH)
      if (ids.length === 0) return total
      // Bytes first: if deleting them fails the rows stay, and the next sweep tries again.
      await this.deps.storage.delete(ids.flatMap((id) => [id, thumbKey(id)]))
      await repo.deleteAttachments(this.deps.db, ids)
      total += ids.length
      if (ids.length < SWEEP_BATCH) return total
    }
  }
}
