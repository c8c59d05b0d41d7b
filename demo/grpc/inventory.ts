/**
 * gRPC demo service `inventory`: Reserve (unary) answers with a fresh reservation id, Shipments
 * (server streaming) sends the shipment steps of a SKU. Its answers otherwise depend only on the
 * request, as a replay needs.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Inventory, serve, type Reservation, type ReserveRequest, type Shipment } from './shop.js';

const PRICES: Record<string, number> = { 'sku-1': 2450, 'sku-2': 18900, 'sku-3': 1200 };
const STEPS = ['packed', 'shipped', 'delivered'];

const server = new grpc.Server();
server.addService(Inventory.service, {
  Reserve(call: grpc.ServerUnaryCall<ReserveRequest, Reservation>, done: grpc.sendUnaryData<Reservation>) {
    const { sku, quantity } = call.request;
    const price = PRICES[sku];
    if (price === undefined) return done({ code: grpc.status.NOT_FOUND, details: `no sku ${sku}` });
    done(null, {
      reservationId: `res-${randomBytes(4).toString('hex')}`,
      sku,
      reserved: quantity,
      unitPriceCents: price,
    });
  },
  Shipments(call: grpc.ServerWritableStream<{ sku: string }, Shipment>) {
    STEPS.forEach((status, i) => call.write({ step: i + 1, status, depot: `depot-${call.request.sku}` }));
    call.end();
  },
});
await serve(server, 'inventory');
