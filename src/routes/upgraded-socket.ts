// Owns what an upgraded WebSocket keeps of the HTTP request that opened it: only its logger.
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type WebSocket from 'ws'

/**
 * A socket error after the upgrade. ws has already closed the socket with the fitting code (1009 frame too big, 1007
 * bad UTF-8, ...): a client's bad frame is logged, not treated as our failure, and never cut before the close frame
 * is out.
 */
export function onSocketError (log: FastifyBaseLogger, socket: WebSocket, error: Error): void {
  log.info({ err: error }, 'websocket error')
  if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal error; reconnect')
}

/**
 * Lets the upgrade's request go. @fastify/websocket leaves the upgrade's ServerResponse assigned to the TCP socket and
 * an error listener holding the request and reply, so every open socket kept its Fastify request, reply, HTTP
 * request and response (headers, query, token text and their listeners) for its whole life: about a quarter of
 * the service's memory per idle socket. The same listener, holding only the logger, replaces it.
 */
export function releaseUpgradeRequest (socket: WebSocket, request: FastifyRequest): void {
  const log = request.log
  socket.removeAllListeners('error')
  socket.on('error', (error) => { onSocketError(log, socket, error) })
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null }
  tcp._httpMessage?.detachSocket(tcp)
}
