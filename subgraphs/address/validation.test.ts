import { isIndonesianPhone, normalisePhone, createAddressSchema, updateAddressSchema } from './validation';
import { canSee } from './service';
import { Address } from './entities/address.entity';
import { parseInput } from '../../lib/validation';
import { AppError } from '../../lib/errors';

describe('Indonesian phone numbers', () => {
  it.each(['081234567', '081234567890123', '+6281234567', '+628123456789012', '0812 3456 7890', '0812-3456-7890'])(
    'accepts %s',
    (phone) => expect(isIndonesianPhone(normalisePhone(phone))).toBe(true),
  );

  it.each([
    ['too few digits', '08123456'],
    ['too many digits', '0812345678901234'],
    ['+62 without the mobile 8', '+62212345678'],
    ['a landline', '0221234567'],
    ['another country', '+6591234567'],
    ['no prefix', '81234567890'],
    ['letters', '08123456789a'],
    ['empty', ''],
  ])('refuses %s', (_what, phone) => expect(isIndonesianPhone(normalisePhone(phone))).toBe(false));
});

describe('address input', () => {
  const valid = {
    recipientName: ' Dewi ',
    phone: '0812-3456-7890',
    line1: 'Jl. Merdeka 10',
    city: 'Bandung',
    province: 'Jawa Barat',
    postalCode: '40115',
  };

  it('trims text, normalises the phone and stores blank optional text as null', () => {
    expect(parseInput(createAddressSchema, { ...valid, label: ' ', line2: '' })).toEqual({
      ...valid,
      recipientName: 'Dewi',
      phone: '081234567890',
      label: null,
      line2: null,
    });
  });

  it('refuses a postal code that is not five digits, naming the field', () => {
    for (const postalCode of ['4011', '401150', 'ABCDE']) {
      expect(() => parseInput(createAddressSchema, { ...valid, postalCode })).toThrow(AppError);
      try {
        parseInput(createAddressSchema, { ...valid, postalCode });
      } catch (error) {
        expect((error as AppError).code).toBe('BAD_USER_INPUT');
        expect((error as AppError).extensions.fields).toEqual(['postalCode']);
      }
    }
  });

  it('leaves omitted update fields out, but refuses null for required ones', () => {
    expect(parseInput(updateAddressSchema, { city: 'Cimahi' })).toEqual({ city: 'Cimahi' });
    expect(parseInput(updateAddressSchema, { line2: null })).toEqual({ line2: null });
    expect(() => parseInput(updateAddressSchema, { city: null })).toThrow(AppError);
  });
});

describe('who may see an address', () => {
  const address = Object.assign(new Address(), { userId: 'owner' });

  it('lets the owner, admins and services (no user) see it, and nobody else', () => {
    expect(canSee({ userId: 'owner', role: 'BUYER' }, address)).toBe(true);
    expect(canSee({ userId: 'someone', role: 'ADMIN' }, address)).toBe(true);
    expect(canSee(null, address)).toBe(true);
    expect(canSee({ userId: 'someone', role: 'BUYER' }, address)).toBe(false);
    expect(canSee({ userId: 'someone', role: 'FACTORY_OWNER' }, address)).toBe(false);
  });
});
