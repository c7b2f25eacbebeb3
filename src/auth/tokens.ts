import type { Config } from '../env';
import { sha256Hex } from '../lib/sql';
import type { UserJson } from '../lib/user';
import { signAccessToken } from './jwt';

/** 256 random bits, base64url: the refresh token handed out. Only its SHA-256 is stored. */
export async function newRefreshToken(): Promise<{ token: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return { token, hash: await sha256Hex(token) };
}

export async function tokenPair(config: Config, sid: string, user: UserJson, refreshToken: string) {
  const accessToken = await signAccessToken(config, { id: user.id, roles: user.roles, sid });
  return { tokenType: 'Bearer' as const, accessToken, expiresIn: config.ACCESS_TOKEN_TTL, refreshToken, user };
}
