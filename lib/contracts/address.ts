/**
 * The internal REST contract of address (3009, docs/internal-api.md): the address a new order or join ships to,
 * declared once and imported by address's rest.ts and by every caller (order, group-buying).
 */

/** What other services need of an address; callers check `userId` themselves. */
export interface AddressSnapshot {
  id: string;
  userId: string;
  label: string | null;
  recipientName: string;
  phone: string;
  line1: string;
  line2: string | null;
  city: string;
  province: string;
  postalCode: string;
}

/** `GET`: the address; 404 NOT_FOUND for no such address and for a deleted one (nothing new ships there). */
export const addressPath = (addressId: string) => `/api/addresses/${addressId}`;
