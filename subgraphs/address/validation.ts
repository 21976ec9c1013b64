import { z } from 'zod';
import { nonEmpty, optionalText } from '../../lib/validation';

/** Spaces and dashes people type between digit groups ("0812-3456-7890") are dropped before checking. */
export function normalisePhone(phone: string): string {
  return phone.replace(/[\s-]/g, '');
}

/** Indonesian numbers as couriers dial them: 08… or +628…, 9 to 15 digits in all. */
export function isIndonesianPhone(phone: string): boolean {
  if (!/^(\+628|08)\d+$/.test(phone)) return false;
  const digits = phone.replace(/\D/g, '').length;
  return digits >= 9 && digits <= 15;
}

const phone = z
  .string()
  .transform(normalisePhone)
  .refine(isIndonesianPhone, 'must be an Indonesian number: 08… or +628…, 9 to 15 digits');
const postalCode = z
  .string()
  .trim()
  .regex(/^\d{5}$/, 'must be exactly 5 digits');

export const createAddressSchema = z.object({
  label: optionalText(60),
  recipientName: nonEmpty(120),
  phone,
  line1: nonEmpty(200),
  line2: optionalText(200),
  city: nonEmpty(120),
  province: nonEmpty(120),
  postalCode,
  isDefault: z.boolean().nullish(),
});

/** Every field optional; a required field given as null is refused by its schema. */
export const updateAddressSchema = z.object({
  label: optionalText(60).optional(),
  recipientName: nonEmpty(120).optional(),
  phone: phone.optional(),
  line1: nonEmpty(200).optional(),
  line2: optionalText(200).optional(),
  city: nonEmpty(120).optional(),
  province: nonEmpty(120).optional(),
  postalCode: postalCode.optional(),
});

export type AddressPatch = z.infer<typeof updateAddressSchema>;
