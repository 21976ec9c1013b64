import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every shipment status change, written by a trigger on `shipments`. */
export const ShipmentStatusChange = statusHistoryEntity(
  'ShipmentStatusChange',
  'shipment_status_history',
  'shipment_id',
);
export type ShipmentStatusChange = StatusChange;
