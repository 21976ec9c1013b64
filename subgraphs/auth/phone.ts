import { badInput } from '../../lib/errors';

/** Separators people type inside phone numbers; anything else that is not a digit makes the input malformed. */
const SEPARATORS = /[\s\-.()]/g;

/**
 * A phone number in E.164 (`+6281234567890`), or null when the input cannot be one. Indonesian forms are
 * read as Indonesian: `0812…` (national, trunk prefix 0) and `62812…` (country code without '+').
 * Other countries must be written with '+'.
 */
export function normalisePhone(input: string): string | null {
  const compact = input.trim().replace(SEPARATORS, '');
  let e164: string;
  if (/^\+\d+$/.test(compact)) e164 = compact;
  else if (/^0\d+$/.test(compact)) e164 = `+62${compact.slice(1)}`;
  else if (/^62\d+$/.test(compact)) e164 = `+${compact}`;
  else return null;
  if (e164.startsWith('+62')) {
    // Indonesian subscriber numbers have 8 to 12 digits after the country code and never start with 0.
    return /^\+62[1-9]\d{7,11}$/.test(e164) ? e164 : null;
  }
  // E.164: at most 15 digits, country codes never start with 0.
  return /^\+[1-9]\d{7,14}$/.test(e164) ? e164 : null;
}

/** normalisePhone for user input: a malformed number is BAD_USER_INPUT naming the field. */
export function requirePhone(input: string, field = 'phone'): string {
  const phone = normalisePhone(input);
  if (!phone) {
    throw badInput(`${field}: "${input.slice(0, 40)}" is not a phone number; use e.g. 081234567890 or +6281234567890`, {
      fields: [field],
    });
  }
  return phone;
}

/** `+6281234567890` → `+62812******90`: enough to recognise, not enough to contact. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return phone.replace(/\d/g, '*');
  return `${phone.slice(0, 6)}${'*'.repeat(phone.length - 8)}${phone.slice(-2)}`;
}
