import { rateLimitKeyOf } from './client-address';

describe('rateLimitKeyOf', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2::a', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::1]', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['64:ff9b::203.0.113.9', '64:ff9b:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (address, key) => {
    expect(rateLimitKeyOf(address)).toBe(key);
  });

  it('keeps different /64s apart', () => {
    expect(rateLimitKeyOf('2001:db8:1:2::a')).not.toBe(rateLimitKeyOf('2001:db8:1:3::a'));
  });
});
