import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { childrenLoader, entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import type { FactoryAccess } from '../../lib/factory-access';
import { Shipment } from './entities/shipment.entity';
import { TrackingEvent } from './entities/tracking-event.entity';

export function createLoaders(em: EntityManager) {
  return {
    shipment: entityLoader(em, Shipment),
    shipmentByOrder: new DataLoader<string, Shipment | null>(async (orderIds) => {
      const rows = await em.find(Shipment, { orderId: { $in: [...orderIds] } });
      const byOrder = new Map(rows.map((row) => [row.orderId, row]));
      return orderIds.map((id) => byOrder.get(id) ?? null);
    }),
    eventsByShipment: childrenLoader(em, TrackingEvent, 'shipmentId'),
    /** Factory ownership per user, asked of the factory subgraph once per request whatever the list size. */
    factoryAccess: undefined as FactoryAccess | undefined,
  };
}

export type LogisticsContext = SubgraphContext<ReturnType<typeof createLoaders>>;
