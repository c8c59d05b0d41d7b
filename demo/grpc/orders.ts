/**
 * gRPC demo service `orders`, the service under test. PlaceOrder reserves at `inventory`
 * (INVENTORY_ADDR, host:port) and answers with a fresh order id and time; TrackOrder relays
 * inventory's shipment stream with a time per step. Its outbound gRPC goes through http_proxy
 * when set (grpc-js reads it). DEMO_BROKEN=field makes a broken build: a changed total.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  Inventory,
  Orders,
  serve,
  type Order,
  type OrderEvent,
  type OrderRequest,
  type Reservation,
  type ReserveRequest,
  type Shipment,
} from './shop.js';

interface InventoryClient extends grpc.Client {
  Reserve(req: ReserveRequest, cb: (err: grpc.ServiceError | null, res?: Reservation) => void): void;
  Shipments(req: { sku: string }): grpc.ClientReadableStream<Shipment>;
}

const address = process.env.INVENTORY_ADDR;
if (!address) {
  process.stderr.write('orders: INVENTORY_ADDR is required (e.g. 127.0.0.1:4001)\n');
  process.exit(2);
}
const broken = process.env.DEMO_BROKEN ?? '';
const inventory = new Inventory(address, grpc.credentials.createInsecure()) as InventoryClient;

const server = new grpc.Server();
server.addService(Orders.service, {
  PlaceOrder(call: grpc.ServerUnaryCall<OrderRequest, Order>, done: grpc.sendUnaryData<Order>) {
    const { customer, sku, quantity } = call.request;
    inventory.Reserve({ sku, quantity }, (err, r) => {
      if (err || !r)
        return done({ code: err?.code ?? grpc.status.INTERNAL, details: `inventory: ${err?.details}` });
      const total = r.unitPriceCents * r.reserved;
      done(null, {
        orderId: `ord-${randomBytes(4).toString('hex')}`,
        customer,
        sku,
        quantity: r.reserved,
        totalCents: broken === 'field' ? Math.round(total * 1.2) : total,
        createdAtMs: Date.now(),
      });
    });
  },
  TrackOrder(call: grpc.ServerWritableStream<{ sku: string }, OrderEvent>) {
    const steps = inventory.Shipments({ sku: call.request.sku });
    steps.on('data', (s: Shipment) => call.write({ ...s, atMs: Date.now() }));
    steps.on('error', (err: grpc.ServiceError) => call.destroy(err));
    steps.on('end', () => call.end());
  },
});
await serve(server, 'orders');
