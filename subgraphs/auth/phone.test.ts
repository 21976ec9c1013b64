import { maskPhone, normalisePhone, requirePhone } from './phone';

describe('normalisePhone', () => {
  it.each([
    ['081234567890', '+6281234567890'],
    ['6281234567890', '+6281234567890'],
    ['+6281234567890', '+6281234567890'],
    [' 0812-3456-7890 ', '+6281234567890'],
    ['+62 (812) 3456.7890', '+6281234567890'],
    ['08123456789', '+628123456789'],
    ['+14155550123', '+14155550123'],
    ['+447911123456', '+447911123456'],
  ])('%s → %s', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
  });

  it.each([
    [''],
    ['abc'],
    ['0812345'], // too short for an Indonesian number
    ['0812345678901234'], // too long
    ['+0812345678'], // country codes never start with 0
    ['+62081234567890'], // trunk 0 after the country code
    ['81234567890'], // neither national nor international form
    ['+62812345678a'],
    ['++6281234567890'],
    ['+1234567'], // under 8 digits
    ['+1234567890123456'], // over 15 digits
  ])('refuses %p', (input) => {
    expect(normalisePhone(input)).toBeNull();
  });

  it('names the field in BAD_USER_INPUT', () => {
    expect(() => requirePhone('12ab')).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', extensions: expect.objectContaining({ fields: ['phone'] }) }),
    );
    expect(requirePhone('081234567890')).toBe('+6281234567890');
  });
});

describe('maskPhone', () => {
  it('keeps the country prefix and the last two digits', () => {
    expect(maskPhone('+6281234567890')).toBe('+62812******90');
    expect(maskPhone('+6281234567890')).toHaveLength('+6281234567890'.length);
  });
});
