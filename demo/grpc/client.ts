/**
 * A grpc-js client for the gRPC demo: `rounds` times, one PlaceOrder per customer and one
 * TrackOrder stream. It never uses a proxy: it is the outside caller of `orders`.
 */
import * as grpc from '@grpc/grpc-js';
import { Orders, type Order, type OrderEvent, type OrderRequest } from './shop.js';

interface OrdersClient extends grpc.Client {
  PlaceOrder(req: OrderRequest, cb: (err: grpc.ServiceError | null, res?: Order) => void): void;
  TrackOrder(req: { sku: string }): grpc.ClientReadableStream<OrderEvent>;
}

const ORDERS: OrderRequest[] = [
  { customer: 'ada', sku: 'sku-1', quantity: 2 },
  { customer: 'grace', sku: 'sku-3', quantity: 1 },
];

export interface GrpcTraffic {
  /** Calls made (each unary call and each stream counts once). */
  calls: number;
  failures: number;
  orders: Order[];
  events: OrderEvent[];
}

export async function driveGrpcTraffic(address: string, rounds: number): Promise<GrpcTraffic> {
  const client = new Orders(address, grpc.credentials.createInsecure(), {
    'grpc.enable_http_proxy': 0,
  }) as OrdersClient;
  const out: GrpcTraffic = { calls: 0, failures: 0, orders: [], events: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      for (const req of ORDERS) {
        out.calls++;
        await new Promise<void>((done) =>
          client.PlaceOrder(req, (err, res) => {
            if (err || !res) out.failures++;
            else out.orders.push(res);
            done();
          }),
        );
      }
      out.calls++;
      await new Promise<void>((done) => {
        const stream = client.TrackOrder({ sku: 'sku-2' });
        stream.on('data', (e: OrderEvent) => out.events.push(e));
        stream.on('error', () => (out.failures++, done()));
        stream.on('end', () => done());
      });
    }
  } finally {
    client.close();
  }
  return out;
}
