// Password hashes: scrypt with the documented parameters stored beside each
// hash, a fresh salt every time, and answers that never throw on a stored
// value that is not one of ours.
import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, SCRYPT, verifyPassword } from '../../src/auth/passwords.js';

describe('passwords', () => {
  it('stores scrypt$N$r$p$salt$key with the documented parameters, salted anew each time', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(SCRYPT).toMatchObject({ N: 32768, r: 8, p: 1, keyLength: 32, saltLength: 16 });
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
  });

  it('accepts the right password only, and an unknown user never', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(await verifyPassword('correct horse', undefined)).toBe(false);
    // Unicode is compared in one normal form: é typed composed or decomposed is the same password.
    expect(await verifyPassword('caf\u0065\u0301-latte', await hashPassword('caf\u00e9-latte'))).toBe(true);
  });

  it('answers false, without throwing, for stored values that are not scrypt hashes', async () => {
    for (const bad of ['', 'plain', 'scrypt$x$8$1$AA$AA', 'bcrypt$1$2$3$4$5', 'scrypt$16$8$1$AA$']) expect(await verifyPassword('x', bad)).toBe(false);
  });

  it('names what is wrong with a new password', () => {
    expect(passwordProblem('short')).toBe('is 5 characters long; use at least 8');
    expect(passwordProblem('x'.repeat(2000))).toMatch(/longer than 1024/);
    expect(passwordProblem(42)).toBe('expected a string');
    expect(passwordProblem('long enough')).toBeUndefined();
  });
});
