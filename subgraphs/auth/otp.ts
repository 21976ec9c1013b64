import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export const OTP_LENGTH = 6;
/** Wrong guesses a code survives; the attempt after the last one finds it dead (1 in 200 000 odds per code). */
export const OTP_MAX_ATTEMPTS = 5;

/** Six uniformly random digits from the CSPRNG (leading zeros kept). */
export function generateOtp(): string {
  return String(randomInt(0, 10 ** OTP_LENGTH)).padStart(OTP_LENGTH, '0');
}

/**
 * What is stored instead of the code: HMAC-SHA256 keyed with the server secret and bound to the phone and
 * the challenge, so a leaked table row cannot be brute-forced offline (10^6 codes) without the secret,
 * and a hash cannot be replayed for another phone or challenge.
 */
export function hashOtp(code: string, phone: string, challengeId: string, secret: string): string {
  return createHmac('sha256', secret).update(`otp:${challengeId}:${phone}:${code}`).digest('hex');
}

/** Constant-time comparison of a typed code with the stored hash. */
export function otpMatches(
  code: string,
  phone: string,
  challengeId: string,
  secret: string,
  storedHash: string,
): boolean {
  const given = Buffer.from(hashOtp(code, phone, challengeId, secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export function isOtpShaped(code: string): boolean {
  return new RegExp(`^\\d{${OTP_LENGTH}}$`).test(code);
}
