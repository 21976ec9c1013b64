import { generateOtp, hashOtp, isOtpShaped, otpMatches } from './otp';
import { phoneFor } from './resolvers';

const SECRET = 'unit-test-secret-0123456789abcdef';

describe('one-time codes', () => {
  it('are six digits, leading zeros kept, and vary', () => {
    const codes = Array.from({ length: 200 }, generateOtp);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(190);
  });

  it('are stored as a keyed hash that does not contain the code', () => {
    const hash = hashOtp('012345', '+6281234567890', 'challenge-1', SECRET);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('012345');
    expect(hashOtp('012345', '+6281234567890', 'challenge-1', 'another-secret-0123456789')).not.toBe(hash);
  });

  it('match only the same code, phone, challenge and secret', () => {
    const hash = hashOtp('012345', '+6281234567890', 'challenge-1', SECRET);
    expect(otpMatches('012345', '+6281234567890', 'challenge-1', SECRET, hash)).toBe(true);
    expect(otpMatches('012346', '+6281234567890', 'challenge-1', SECRET, hash)).toBe(false);
    expect(otpMatches('012345', '+6281234567891', 'challenge-1', SECRET, hash)).toBe(false);
    expect(otpMatches('012345', '+6281234567890', 'challenge-2', SECRET, hash)).toBe(false);
    expect(otpMatches('012345', '+6281234567890', 'challenge-1', 'another-secret-0123456789', hash)).toBe(false);
    expect(otpMatches('012345', '+6281234567890', 'challenge-1', SECRET, 'not-a-hash')).toBe(false);
  });

  it('are shaped as exactly six digits', () => {
    expect(isOtpShaped('123456')).toBe(true);
    for (const bad of ['12345', '1234567', '12345a', ' 123456', '']) expect(isOtpShaped(bad)).toBe(false);
  });
});

describe('phone visibility', () => {
  const user = { id: 'u1', phone: '+6281234567890' };
  it('shows the full number to the user, admins and a fresh sign-in; masks it for others', () => {
    expect(phoneFor(user, { userId: 'u1', role: 'BUYER' })).toBe(user.phone);
    expect(phoneFor(user, { userId: 'u2', role: 'ADMIN' })).toBe(user.phone);
    expect(phoneFor(user, null, true)).toBe(user.phone);
    expect(phoneFor(user, { userId: 'u2', role: 'FACTORY_OWNER' })).toBe('+62812******90');
    expect(phoneFor(user, null)).toBe('+62812******90');
  });
});
