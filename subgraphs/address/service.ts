import type { EntityManager } from '@mikro-orm/postgresql';
import { Address } from './entities/address.entity';
import { notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import type { Caller } from '../../lib/internal-auth';
import { isId } from '../../lib/ids';
import { createAddressSchema, updateAddressSchema } from './validation';
import type { AddressSnapshot } from '../../lib/contracts/address';

/**
 * Who may see an address: its owner and admins; a call without a user is another subgraph resolving
 * a reference for a caller it has already checked (an order for its buyer).
 */
export function canSee(caller: Caller | null, address: Address): boolean {
  return !caller || caller.role === 'ADMIN' || caller.userId === address.userId;
}

export class AddressService {
  constructor(private readonly em: EntityManager) {}

  myAddresses(userId: string): Promise<Address[]> {
    return this.em.find(Address, { userId, deletedAt: null }, { orderBy: { isDefault: 'desc', id: 'asc' } });
  }

  /** Null for a missing or deleted address and for one the caller may not see (no hint that it exists). */
  async visibleAddress(caller: Caller, id: string): Promise<Address | null> {
    const address = isId(id) ? await this.em.findOne(Address, { id, deletedAt: null }) : null;
    return address && canSee(caller, address) ? address : null;
  }

  /** A user's first address becomes the default whatever the input says. */
  async createAddress(caller: Caller, input: unknown): Promise<Address> {
    const { isDefault, ...fields } = parseInput(createAddressSchema, input);
    return this.em.transactional(async (em) => {
      await lockAddressBook(em, caller.userId);
      const isFirst = (await em.count(Address, { userId: caller.userId, deletedAt: null })) === 0;
      if (isDefault && !isFirst) await clearDefault(em, caller.userId);
      return em.create(Address, { ...fields, userId: caller.userId, isDefault: isFirst || Boolean(isDefault) });
    });
  }

  async updateAddress(caller: Caller, id: string, input: unknown): Promise<Address> {
    const patch = parseInput(updateAddressSchema, input);
    const address = await this.ownAddress(this.em, caller, id);
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined) Object.assign(address, { [field]: value });
    }
    await this.em.flush();
    return address;
  }

  /**
   * Soft: the row stays for the orders already shipping there (`Order.shippingAddress`), while lists, reads,
   * changes and new orders treat it as gone. Deleting the default hands the default to the oldest remaining
   * address.
   */
  async deleteAddress(caller: Caller, id: string): Promise<boolean> {
    return this.em.transactional(async (em) => {
      await lockAddressBook(em, caller.userId);
      const address = await this.ownAddress(em, caller, id);
      const wasDefault = address.isDefault;
      Object.assign(address, { deletedAt: new Date(), isDefault: false });
      // The old default must be cleared before another takes its place (one default per user, per statement).
      await em.flush();
      if (wasDefault) {
        const successor = await em.findOne(
          Address,
          { userId: caller.userId, deletedAt: null },
          { orderBy: { id: 'asc' } },
        );
        if (successor) successor.isDefault = true;
      }
      return true;
    });
  }

  async setDefaultAddress(caller: Caller, id: string): Promise<Address> {
    return this.em.transactional(async (em) => {
      await lockAddressBook(em, caller.userId);
      const address = await this.ownAddress(em, caller, id);
      if (!address.isDefault) {
        await clearDefault(em, caller.userId);
        address.isDefault = true;
      }
      return address;
    });
  }

  /** For a new order or join: a deleted address is NOT_FOUND, so nothing new ships there. */
  async snapshot(id: string): Promise<AddressSnapshot> {
    const address = isId(id) ? await this.em.findOne(Address, { id, deletedAt: null }) : null;
    if (!address) throw notFound('No address with this id');
    const { userId, label, recipientName, phone, line1, line2, city, province, postalCode } = address;
    return {
      id,
      userId,
      label: label ?? null,
      recipientName,
      phone,
      line1,
      line2: line2 ?? null,
      city,
      province,
      postalCode,
    };
  }

  /** Someone else's address is NOT_FOUND, like a deleted one or one that does not exist. */
  private async ownAddress(em: EntityManager, caller: Caller, id: string): Promise<Address> {
    const address = isId(id) ? await em.findOne(Address, { id, userId: caller.userId, deletedAt: null }) : null;
    if (!address) throw notFound('No address with this id');
    return address;
  }
}

/** Serialises changes to one user's addresses so concurrent requests cannot leave two defaults or none. */
async function lockAddressBook(em: EntityManager, userId: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`addresses:${userId}`]);
}

async function clearDefault(em: EntityManager, userId: string): Promise<void> {
  await em.nativeUpdate(Address, { userId, isDefault: true }, { isDefault: false });
}
