import { startTestStack, type TestStack, errorCode, TEST_INTERNAL_TOKEN } from '../../test/support/e2e';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER, type Role } from '../../lib/internal-auth';
import { newId } from '../../lib/ids';

const user = (role: Role = 'BUYER') => ({ caller: { userId: newId(), role } });
type As = ReturnType<typeof user>;

const FIELDS = 'id label recipientName phone line1 line2 city province postalCode isDefault createdAt';
const CREATE = `mutation ($input: CreateAddressInput!) { createAddress(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAddressInput!) { updateAddress(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!) { deleteAddress(id: $id) }`;
const SET_DEFAULT = `mutation ($id: ID!) { setDefaultAddress(id: $id) { id isDefault } }`;
const MY_ADDRESSES = `{ myAddresses { ${FIELDS} } }`;
const ADDRESS = `query ($id: ID!) { address(id: $id) { ${FIELDS} } }`;

const home = {
  label: 'Rumah',
  recipientName: 'Dewi Lestari',
  phone: '081234567890',
  line1: 'Jl. Merdeka No. 10, RT 02/RW 05',
  city: 'Bandung',
  province: 'Jawa Barat',
  postalCode: '40115',
};

describe('address subgraph', () => {
  let stack: TestStack;

  const create = async (as: As, input: Record<string, unknown> = {}) => {
    const result = await stack.graphql(CREATE, { input: { ...home, ...input } }, as);
    expect(result.errors).toBeUndefined();
    return result.data.createAddress;
  };
  const myAddresses = async (as: As) => {
    const result = await stack.graphql(MY_ADDRESSES, undefined, as);
    expect(result.errors).toBeUndefined();
    return result.data.myAddresses as { id: string; isDefault: boolean }[];
  };
  const defaults = async (as: As) => (await myAddresses(as)).filter((a) => a.isDefault).map((a) => a.id);

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['address'] });
  });
  afterAll(() => stack?.stop());

  it('makes the first address the default and lists the default first', async () => {
    const buyer = user();
    const first = await create(buyer, { phone: '0812-3456-7890' });
    expect(first).toMatchObject({ ...home, phone: '081234567890', line2: null, isDefault: true });
    const second = await create(buyer, { label: 'Kantor', phone: '+6281298765432', line2: 'Gedung B, lantai 3' });
    expect(second.isDefault).toBe(false);
    const third = await create(buyer, { label: 'Kos', isDefault: true });
    expect(third.isDefault).toBe(true);

    expect((await myAddresses(buyer)).map((a) => a.id)).toEqual([third.id, first.id, second.id]);
    expect(await defaults(buyer)).toEqual([third.id]);
  });

  it('switches the default to exactly one address', async () => {
    const buyer = user();
    const [a, b, c] = [await create(buyer), await create(buyer), await create(buyer)];
    expect(await defaults(buyer)).toEqual([a.id]);

    const switched = await stack.graphql(SET_DEFAULT, { id: c.id }, buyer);
    expect(switched.data.setDefaultAddress).toEqual({ id: c.id, isDefault: true });
    expect(await defaults(buyer)).toEqual([c.id]);
    expect((await myAddresses(buyer))[0].id).toBe(c.id);

    // Setting the current default again changes nothing.
    await stack.graphql(SET_DEFAULT, { id: c.id }, buyer);
    expect(await defaults(buyer)).toEqual([c.id]);
    expect((await myAddresses(buyer)).map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
  });

  it('hands the default on when the default address is deleted', async () => {
    const buyer = user();
    const [a, b] = [await create(buyer), await create(buyer)];
    const deleted = await stack.graphql(DELETE, { id: a.id }, buyer);
    expect(deleted.data.deleteAddress).toBe(true);
    expect(await defaults(buyer)).toEqual([b.id]);
    await stack.graphql(DELETE, { id: b.id }, buyer);
    expect(await myAddresses(buyer)).toEqual([]);
    // With none left, the next one is the default again.
    expect((await create(buyer)).isDefault).toBe(true);
  });

  it('keeps one default when several addresses are created at once', async () => {
    const buyer = user();
    const created = await Promise.all(Array.from({ length: 6 }, () => create(buyer, { isDefault: true })));
    expect(created).toHaveLength(6);
    expect(await defaults(buyer)).toHaveLength(1);
  });

  it('updates only the fields given', async () => {
    const buyer = user();
    const address = await create(buyer, { line2: 'Dekat masjid' });
    const result = await stack.graphql(UPDATE, { id: address.id, input: { city: 'Cimahi', line2: null } }, buyer);
    expect(result.errors).toBeUndefined();
    expect(result.data.updateAddress).toEqual({ ...address, city: 'Cimahi', line2: null });
  });

  describe("another user's address", () => {
    const owner = user();
    const stranger = user();
    let address: Record<string, unknown>;
    beforeAll(async () => {
      address = await create(owner);
    });

    it('reads as null, for the stranger only', async () => {
      const asStranger = await stack.graphql(ADDRESS, { id: address.id }, stranger);
      expect(asStranger.errors).toBeUndefined();
      expect(asStranger.data.address).toBeNull();
      expect((await stack.graphql(ADDRESS, { id: address.id }, owner)).data.address).toEqual(address);
      expect((await stack.graphql(ADDRESS, { id: address.id }, user('ADMIN'))).data.address.id).toBe(address.id);
      expect(await myAddresses(stranger)).toEqual([]);
    });

    it('cannot be updated, deleted or made default by the stranger, and stays as it was', async () => {
      expect(errorCode(await stack.graphql(UPDATE, { id: address.id, input: { city: 'Elsewhere' } }, stranger))).toBe(
        'NOT_FOUND',
      );
      expect(errorCode(await stack.graphql(DELETE, { id: address.id }, stranger))).toBe('NOT_FOUND');
      const strangersOwn = await create(stranger);
      expect(errorCode(await stack.graphql(SET_DEFAULT, { id: address.id }, stranger))).toBe('NOT_FOUND');
      expect((await stack.graphql(ADDRESS, { id: address.id }, owner)).data.address).toEqual(address);
      expect(await defaults(stranger)).toEqual([strangersOwn.id]);
    });
  });

  describe('references from other subgraphs', () => {
    /** What the gateway sends the address subgraph when another subgraph's field points at addresses. */
    const resolveReferences = async (ids: string[], caller: Caller | null) => {
      const response = await fetch(`${stack.serviceUrl('address')}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
          ...identityHeaders(caller),
        },
        body: JSON.stringify({
          query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Address { id city } } }',
          variables: { r: ids.map((id) => ({ __typename: 'Address', id })) },
        }),
      });
      const body = await response.json();
      expect(body.errors).toBeUndefined();
      return body.data._entities as ({ id: string } | null)[];
    };

    it("resolves only what the caller may see: the owner's, an admin's or a service's own call", async () => {
      const owner = user();
      const [a, b] = [await create(owner), await create(owner)];
      const ids = [a.id, newId(), b.id];
      expect((await resolveReferences(ids, owner.caller)).map((x) => x?.id ?? null)).toEqual([a.id, null, b.id]);
      expect(await resolveReferences(ids, user().caller)).toEqual([null, null, null]);
      expect((await resolveReferences(ids, user('ADMIN').caller)).map((x) => x?.id ?? null)).toEqual([
        a.id,
        null,
        b.id,
      ]);
      expect((await resolveReferences(ids, null)).map((x) => x?.id ?? null)).toEqual([a.id, null, b.id]);
    });
  });

  it.each([
    ['a four-digit postal code', { postalCode: '4011' }, 'postalCode'],
    ['a postal code with letters', { postalCode: '4011A' }, 'postalCode'],
    ['a foreign phone', { phone: '+6591234567' }, 'phone'],
    ['a phone without the 08 prefix', { phone: '81234567890' }, 'phone'],
    ['a phone that is too short', { phone: '0812345' }, 'phone'],
    ['a phone that is too long', { phone: '0812345678901234' }, 'phone'],
    ['an empty recipient', { recipientName: ' ' }, 'recipientName'],
    ['an empty first line', { line1: '' }, 'line1'],
    ['an empty city', { city: '' }, 'city'],
    ['an empty province', { province: '  ' }, 'province'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and creates nothing', async (_what, input, field) => {
    const buyer = user();
    const result = await stack.graphql(CREATE, { input: { ...home, ...input } }, buyer);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].extensions?.fields).toEqual([field]);
    expect(await myAddresses(buyer)).toEqual([]);
  });

  it('refuses a bad update with BAD_USER_INPUT, and changes nothing', async () => {
    const buyer = user();
    const address = await create(buyer);
    for (const input of [{ postalCode: '123456' }, { phone: '021555' }, { recipientName: null }]) {
      expect(errorCode(await stack.graphql(UPDATE, { id: address.id, input }, buyer))).toBe('BAD_USER_INPUT');
    }
    expect((await stack.graphql(ADDRESS, { id: address.id }, buyer)).data.address).toEqual(address);
  });

  it('needs a signed-in caller', async () => {
    expect(errorCode(await stack.graphql(MY_ADDRESSES))).toBe('UNAUTHENTICATED');
    expect(errorCode(await stack.graphql(ADDRESS, { id: newId() }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await stack.graphql(CREATE, { input: home }))).toBe('UNAUTHENTICATED');
  });

  describe('internal REST', () => {
    it('answers the address with its owner for callers holding the internal token', async () => {
      const buyer = user();
      const address = await create(buyer, { line2: 'Blok C' });
      const found = await stack.internal('address', 'GET', `/api/addresses/${address.id}`);
      expect(found).toEqual({
        status: 200,
        body: {
          id: address.id,
          userId: buyer.caller.userId,
          label: home.label,
          recipientName: home.recipientName,
          phone: home.phone,
          line1: home.line1,
          line2: 'Blok C',
          city: home.city,
          province: home.province,
          postalCode: home.postalCode,
        },
      });

      const response = await fetch(`${stack.serviceUrl('address')}/api/addresses/${address.id}`);
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.error.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(body)).not.toContain(home.line1);
    });

    it('answers 404 for an unknown or malformed id', async () => {
      for (const id of [newId(), 'not-an-id']) {
        const missing = await stack.internal('address', 'GET', `/api/addresses/${id}`);
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('NOT_FOUND');
      }
    });
  });
});
