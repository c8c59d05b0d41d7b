/**
 * Demo service `orders`, the service under test. It calls `inventory` (INVENTORY_URL) for
 * every order, through HTTP_PROXY when set. DEMO_BROKEN=field|slow makes a deliberately
 * broken build: a changed response field, or a slower endpoint.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { callJson, listen, readJson, sendJson, stopOnSignals } from './http-util.js';

interface Order {
  id: string;
  customer: string;
  sku: string;
  qty: number;
  total: number;
}

const SEED: Order[] = [
  { id: 'ord-1001', customer: 'ada', sku: 'sku-1', qty: 2, total: 49 },
  { id: 'ord-1002', customer: 'grace', sku: 'sku-3', qty: 1, total: 12 },
  { id: 'ord-1003', customer: 'ada', sku: 'sku-2', qty: 1, total: 189 },
];

export function createOrders(inventoryUrl: string, broken = process.env.DEMO_BROKEN ?? ''): http.Server {
  // Created orders are not kept: the demo's answers depend only on the request, so a replay
  // in any order (many connections) sees the same state as the recording.
  const orders = new Map(SEED.map((o) => [o.id, o]));
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://orders');
    try {
      if (broken === 'slow') await new Promise((r) => setTimeout(r, 150));
      if (req.method === 'GET' && url.pathname === '/orders') {
        const customer = url.searchParams.get('customer');
        const limit = Number(url.searchParams.get('limit') ?? 10);
        const list = [...orders.values()].filter((o) => !customer || o.customer === customer).slice(0, limit);
        return sendJson(res, 200, { orders: list, count: list.length });
      }
      const one = url.pathname.match(/^\/orders\/([\w-]+)$/);
      if (req.method === 'GET' && one) {
        const order = orders.get(one[1]);
        if (!order) return sendJson(res, 404, { error: `no order ${one[1]}` });
        const item = await callJson('GET', `${inventoryUrl}/items/${order.sku}`);
        return sendJson(res, 200, { ...order, item: item.json });
      }
      if (req.method === 'POST' && url.pathname === '/orders') {
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          return sendJson(res, 401, { error: 'missing bearer token' });
        }
        const body = (await readJson(req)) as { customer?: string; sku?: string; qty?: number };
        if (!body?.customer || !body.sku || !body.qty) {
          return sendJson(res, 400, { error: 'customer, sku and qty are required' });
        }
        const item = await callJson('GET', `${inventoryUrl}/items/${body.sku}`);
        if (item.status !== 200) return sendJson(res, 422, { error: `unknown sku ${body.sku}` });
        const reservation = await callJson('POST', `${inventoryUrl}/reservations`, {
          sku: body.sku,
          qty: body.qty,
        });
        if (reservation.status !== 201)
          return sendJson(res, 409, { error: 'not reserved', detail: reservation.json });
        const price = (item.json as { price: number }).price;
        const order: Order = {
          id: `ord-${randomBytes(4).toString('hex')}`,
          customer: body.customer,
          sku: body.sku,
          qty: body.qty,
          total: broken === 'field' ? Math.round(price * body.qty * 1.2 * 100) / 100 : price * body.qty,
        };
        return sendJson(res, 201, {
          ...order,
          status: 'confirmed',
          createdAt: new Date().toISOString(),
          reservation: reservation.json,
        });
      }
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      sendJson(res, 502, { error: `inventory call failed: ${(err as Error).message}` });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const inventoryUrl = process.env.INVENTORY_URL;
  if (!inventoryUrl) {
    process.stderr.write('orders: INVENTORY_URL is required (e.g. http://127.0.0.1:4001)\n');
    process.exit(2);
  }
  const server = createOrders(inventoryUrl);
  stopOnSignals(server);
  await listen(server, Number(process.env.PORT ?? 0), 'orders');
}
