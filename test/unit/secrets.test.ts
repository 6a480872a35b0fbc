// API tokens: lk_<16 hex digits>_<43 base64url characters>, found by their
// id and matched by their secret's digest, whatever characters the secret
// holds ("_" and "-" included: about half of all secrets have a "_").
import { describe, expect, it } from 'vitest';
import { apiTokenId, apiTokenMatches, newApiToken } from '../../src/auth/secrets.js';

describe('API tokens', () => {
  it('match their own digest and no other, for secrets with "_" or "-" in them too', () => {
    const tokens = Array.from({ length: 64 }, () => newApiToken());
    expect(tokens.some((t) => t.token.slice(20).includes('_'))).toBe(true);
    for (const [i, t] of tokens.entries()) {
      expect(apiTokenId(t.token)).toBe(t.id);
      expect(apiTokenMatches(t.token, t.hash)).toBe(true);
      expect(apiTokenMatches(t.token, tokens[(i + 1) % tokens.length].hash)).toBe(false);
    }
  });

  it('is not an API token unless it has the exact form', () => {
    const { token } = newApiToken();
    for (const bad of ['', 'lk_', token.slice(0, -1), `${token}x`, token.replace('lk_', 'LK_'), `Bearer ${token}`]) expect(apiTokenId(bad)).toBeUndefined();
  });
});
