import { z, ZodError, type ZodTypeAny } from 'zod';
import { badInput } from './errors';
import { isId } from './ids';
import { MAX_AMOUNT } from './money';

/** Parses input with a zod schema; a failure is BAD_USER_INPUT naming the fields at fault. */
export function parseInput<S extends ZodTypeAny>(schema: S, input: unknown): z.infer<S> {
  try {
    return schema.parse(input);
  } catch (error) {
    if (error instanceof ZodError) {
      const problems = error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
      throw badInput(`Invalid input — ${problems.join('; ')}`, { fields: error.issues.map((i) => i.path.join('.')) });
    }
    throw error;
  }
}

export const idSchema = z.string().refine(isId, 'is not a valid id');
/** Money in IDR: integer rupiah, positive, at most what the API's Int carries (lib/money.ts). */
export const rupiah = z.number().int('must be a whole number of rupiah').min(1, 'must be at least 1').max(MAX_AMOUNT);
export const nonEmpty = (max = 200) => z.string().trim().min(1, 'must not be empty').max(max);

/** Optional free text: trimmed, bounded, and blank stored as null rather than as an empty string. */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((text) => text || null);
