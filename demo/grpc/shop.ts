/**
 * The gRPC demo's shared parts: shop.proto loaded with @grpc/proto-loader (as a grpc-js user
 * would), the service constructors, and a server start that prints the same ready line as the
 * HTTP demo services.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The .proto stays in the source tree: from dist/demo/grpc, three levels up. */
export const SHOP_PROTO = path.resolve(here, '../../../demo/grpc/shop.proto');

export const packageDefinition = protoLoader.loadSync(SHOP_PROTO, {
  longs: Number,
  defaults: true,
});
const shop = (grpc.loadPackageDefinition(packageDefinition) as unknown as { shop: ShopPackage }).shop;

type ClientCtor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  opts?: grpc.ChannelOptions,
) => grpc.Client;
interface ShopPackage {
  Inventory: ClientCtor & { service: grpc.ServiceDefinition };
  Orders: ClientCtor & { service: grpc.ServiceDefinition };
}
export const { Inventory, Orders } = shop;

export interface ReserveRequest {
  sku: string;
  quantity: number;
}
export interface Reservation {
  reservationId: string;
  sku: string;
  reserved: number;
  unitPriceCents: number;
}
export interface Shipment {
  step: number;
  status: string;
  depot: string;
}
export interface OrderRequest {
  customer: string;
  sku: string;
  quantity: number;
}
export interface Order {
  orderId: string;
  customer: string;
  sku: string;
  quantity: number;
  totalCents: number;
  createdAtMs: number;
}
export interface OrderEvent extends Shipment {
  atMs: number;
}

/** Binds `server` on loopback (PORT, 0 = any), prints the ready line, stops on SIGTERM/SIGINT. */
export async function serve(server: grpc.Server, name: string): Promise<number> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${process.env.PORT ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  process.stdout.write(JSON.stringify({ event: 'ready', service: name, port, pid: process.pid }) + '\n');
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return port;
}
