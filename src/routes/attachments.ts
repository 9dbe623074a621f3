// Owns the attachment REST API: multipart photo uploads into a chat, and delivering stored photos by signed URL or participant token.
import multipart from '@fastify/multipart'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { perUser } from '../auth/identity.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { callerOf, bearerToken } from '../plugins/auth.js'
import type { Variant } from '../attachments/url-signer.js'
import { authErrors, bearerSecurity, ChatIdParams, ErrorResponse } from '../http/schemas.js'

/** Room for the multipart framing around the one file part (boundaries, part headers). */
const MULTIPART_OVERHEAD_BYTES = 16 * 1024

// The photo is only ever shown as an image: nothing in it may run, even if a browser is made to render it as a page.
const IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

const Uploaded = Type.Object({
  id: Type.String({ format: 'uuid' }),
  content_type: Type.String(),
  size: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer()
})

const attachmentRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const maxBytes = config.attachments.maxBytes
  // Scoped to this plugin: no other route accepts multipart bodies.
  // One byte past the limit gets through busboy so the handler sees the overflow itself and answers at once.
  await app.register(multipart, { limits: { fileSize: maxBytes + 1, files: 1, fields: 4, parts: 5 }, throwFileSizeLimit: true })
  const tooLarge = (): AppError => new AppError('payload_too_large', `A photo may be at most ${maxBytes} bytes`)
  // The rest of an oversized body is never read: the connection closes after the 413 instead of draining it.
  const refuseTooLarge = (reply: FastifyReply): AppError => {
    void reply.header('Connection', 'close')
    return tooLarge()
  }

  app.post('/chats/:id/attachments', {
    preValidation: [
      app.authenticate,
      // A declared length past the limit is refused before a byte of the body is read.
      async (request, reply) => {
        const length = Number(request.headers['content-length'])
        if (Number.isFinite(length) && length > maxBytes + MULTIPART_OVERHEAD_BYTES) throw refuseTooLarge(reply)
      }
    ],
    config: { rateLimit: { max: config.attachments.perHour, timeWindow: 3_600_000, hook: 'preHandler', keyGenerator: perUser } },
    schema: {
      tags: ['attachments'],
      summary: 'Upload a photo (multipart, one part named "file") to send in this chat with attachment_ids',
      description: 'JPEG, PNG, WebP or GIF (first frame), detected from the bytes. Re-encoded: orientation applied, all ' +
        'metadata removed, at most 2048 px on the long side, plus a 320 px thumbnail.',
      consumes: ['multipart/form-data'],
      security: bearerSecurity,
      params: ChatIdParams,
      response: {
        201: Uploaded,
        ...authErrors,
        404: ErrorResponse,
        413: ErrorResponse,
        415: ErrorResponse,
        422: ErrorResponse,
        429: ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request, reply) => {
    const identity = callerOf(request)
    // Participants only, before the file is read: an outsider's upload costs nothing and learns nothing.
    await app.attachments.assertCanUpload(identity, request.params.id)
    if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send multipart/form-data with one part named "file"')
    let bytes: Buffer | null = null
    try {
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue
        if (part.fieldname !== 'file' || bytes !== null) {
          await part.toBuffer()
          throw new AppError('validation_failed', 'Send one part named "file"')
        }
        const chunks: Buffer[] = []
        let total = 0
        for await (const chunk of part.file) {
          total += (chunk as Buffer).length
          if (total > maxBytes) throw refuseTooLarge(reply)
          chunks.push(chunk as Buffer)
        }
        bytes = Buffer.concat(chunks)
      }
    } catch (error) {
      if (error instanceof AppError) throw error
      if ((error as { statusCode?: number }).statusCode === 413) throw refuseTooLarge(reply)
      throw error
    }
    if (bytes === null) throw new AppError('validation_failed', 'Send the photo as a part named "file"')
    const uploaded = await app.attachments.upload(identity, request.params.id, bytes)
    return await reply.status(201).send(uploaded)
  })

  const Served = {
    params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
    querystring: Type.Object({
      exp: Type.Optional(Type.String({ maxLength: 20 })),
      sig: Type.Optional(Type.String({ maxLength: 100 }))
    }),
    response: { 404: ErrorResponse }
  }

  const serve = (variant: Variant) => async (request: FastifyRequest<{ Params: { id: string }, Querystring: { exp?: string, sig?: string } }>, reply: FastifyReply) => {
    // A bad or missing token is simply no authorization: without a valid signature that is the same 404.
    let identity = null
    const token = bearerToken(request)
    if (token !== null) {
      try { identity = app.tokens.verify(token) } catch {}
    }
    const served = await app.attachments.serve(request.params.id, variant, { exp: request.query.exp, sig: request.query.sig, identity })
    void reply
      .header('Content-Type', served.contentType)
      .header('Content-Disposition', 'inline')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', `private, max-age=${served.maxAgeSeconds}`)
      .header('ETag', served.etag)
      .header('Content-Security-Policy', IMAGE_CSP)
      // The widget shows it on the marketplace's own pages: an <img> from another origin must be allowed to load it.
      .header('Cross-Origin-Resource-Policy', 'cross-origin')
    if (request.headers['if-none-match'] === served.etag) return await reply.status(304).send()
    return await reply.send(served.data)
  }

  app.get('/attachments/:id', {
    schema: { tags: ['attachments'], summary: 'A photo: with the ?exp=&sig= of its url, or a participant\'s Authorization header', ...Served }
  }, serve('full'))
  app.get('/attachments/:id/thumb', {
    schema: { tags: ['attachments'], summary: 'The 320 px thumbnail of a photo, authorized like the photo', ...Served }
  }, serve('thumb'))
}

export default attachmentRoutes
