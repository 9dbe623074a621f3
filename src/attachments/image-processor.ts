// Owns turning uploaded bytes into safe images: type from the bytes, pixel bound, and a sharp re-encode that applies orientation and drops every metadata block.
import { createHash } from 'node:crypto'
import type createSharp from 'sharp'
import type { Metadata, Sharp } from 'sharp'

type SharpFactory = typeof createSharp
import { AppError, serviceUnavailable } from '../errors.js'
import { TaskLimiter } from '../realtime/task-limiter.js'

/** Decompression bombs: a small file can claim a huge canvas; nothing past this is decoded. */
export const MAX_INPUT_PIXELS = 40_000_000
export const MAX_SIDE = 2048
export const THUMB_SIDE = 320

export interface EncodedImage {
  data: Buffer
  contentType: string
  width: number
  height: number
  etag: string
}

export interface ProcessedImage { full: EncodedImage, thumb: EncodedImage }

type Kind = 'jpeg' | 'png' | 'webp' | 'gif'

/** The four accepted formats by their magic bytes; sharp never sees anything else (no SVG, TIFF, HEIF parsers reachable). */
export function sniff (bytes: Buffer): Kind | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png'
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp'
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6))) return 'gif'
  return null
}

const etagOf = (data: Buffer): string => `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"`

// A GIF keeps its first frame only, stored as PNG (lossless, and no animation code path when it is served).
function encode (pipeline: Sharp, kind: Kind): { pipeline: Sharp, contentType: string } {
  switch (kind) {
    case 'jpeg': return { pipeline: pipeline.jpeg({ quality: 85 }), contentType: 'image/jpeg' }
    case 'webp': return { pipeline: pipeline.webp({ quality: 85 }), contentType: 'image/webp' }
    default: return { pipeline: pipeline.png(), contentType: 'image/png' }
  }
}

async function render (sharp: SharpFactory, input: Buffer, kind: Kind, side: number): Promise<EncodedImage> {
  // No withMetadata/keepExif/keepIccProfile: sharp then writes no EXIF, GPS, XMP, IPTC or ICC block, and converts
  // colour to sRGB. rotate() with no angle applies the EXIF orientation first, since the tag itself is dropped.
  const base = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false, pages: 1 })
    .rotate()
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
  const { pipeline, contentType } = encode(base, kind)
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true })
  return { data, contentType, width: info.width, height: info.height, etag: etagOf(data) }
}

export interface ImageProcessorOptions {
  /** Images decoded at once per app (sharp runs them on libuv threads; this bounds memory and CPU). */
  concurrency: number
  /** Uploads waiting for a slot; beyond it an upload fails at once with service_unavailable. */
  maxWaiting: number
}

export class ImageProcessor {
  private readonly limiter: TaskLimiter
  private pending = 0
  /** sharp (and libvips with it) is loaded at the first upload, not at start-up. */
  private sharp: Promise<SharpFactory> | null = null

  constructor (private readonly options: ImageProcessorOptions) {
    this.limiter = new TaskLimiter(options.concurrency)
  }

  async process (bytes: Buffer): Promise<ProcessedImage> {
    const kind = sniff(bytes)
    if (kind === null) throw new AppError('unsupported_media_type', 'Only JPEG, PNG, WebP and GIF images can be attached')
    if (this.pending >= this.options.concurrency + this.options.maxWaiting) throw serviceUnavailable('Too many photos being processed; retry shortly')
    this.pending++
    try {
      return await this.limiter.run(async () => await this.processKnown(bytes, kind))
    } finally {
      this.pending--
    }
  }

  private async processKnown (bytes: Buffer, kind: Kind): Promise<ProcessedImage> {
    const sharp = this.sharp ??= import('sharp').then((module) => module.default as SharpFactory)
    let metadata: Metadata
    try {
      metadata = await (await sharp)(bytes, { failOn: 'error' }).metadata()
    } catch (error) {
      throw new AppError('invalid_image', 'The image could not be read', { cause: error })
    }
    if (metadata.format !== kind && !(kind === 'jpeg' && metadata.format === 'jpeg')) {
      throw new AppError('invalid_image', 'The image could not be read')
    }
    const width = metadata.width ?? 0
    const height = metadata.height ?? 0
    if (width * height > MAX_INPUT_PIXELS) {
      throw new AppError('image_too_large', `The image is ${width}×${height}; at most ${MAX_INPUT_PIXELS / 1_000_000} megapixels are accepted`)
    }
    try {
      const full = await render(await sharp, bytes, kind, MAX_SIDE)
      const thumb = await render(await sharp, full.data, kind, THUMB_SIDE)
      return { full, thumb }
    } catch (error) {
      if (error instanceof Error && /pixel limit/i.test(error.message)) {
        throw new AppError('image_too_large', `At most ${MAX_INPUT_PIXELS / 1_000_000} megapixels are accepted`, { cause: error })
      }
      throw new AppError('invalid_image', 'The image could not be decoded', { cause: error })
    }
  }
}
