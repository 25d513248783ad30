// Who may use the admin API: a Bearer token compared in constant time (both sides hashed first so lengths match),
// or — when the router runs without a token — only clients on the loopback interface.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError, UnauthorizedError } from './errors.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** Express middleware guarding /admin. */
export function adminAuth(token: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (token === undefined) {
      if (isLoopback(req.socket.remoteAddress)) return next();
      return next(new ForbiddenError(`the admin API is served on loopback only (the router runs without GSG_ADMIN_TOKEN); ${req.socket.remoteAddress} is not loopback`));
    }
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !tokenMatches(m[1]!, token)) return next(new UnauthorizedError());
    next();
  };
}
