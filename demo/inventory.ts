/**
 * Demo dependency `inventory`: stock levels and reservations. Responses carry volatile
 * fields (a timestamp, a random reservation id), as real services do.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { listen, readJson, sendJson, stopOnSignals } from './http-util.js';

const ITEMS: Record<string, { name: string; price: number; stock: number }> = {
  'sku-1': { name: 'Espresso beans 1kg', price: 24.5, stock: 120 },
  'sku-2': { name: 'Burr grinder', price: 189, stock: 8 },
  'sku-3': { name: 'Milk jug', price: 12, stock: 40 },
  'sku-4': { name: 'Tamper', price: 35, stock: 0 },
};

export function createInventory(): http.Server {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://inventory');
    try {
      const item = url.pathname.match(/^\/items\/([\w-]+)$/);
      if (req.method === 'GET' && item) {
        const found = ITEMS[item[1]];
        if (!found) return sendJson(res, 404, { error: `no item ${item[1]}` });
        return sendJson(res, 200, { sku: item[1], ...found, checkedAt: new Date().toISOString() });
      }
      if (req.method === 'POST' && url.pathname === '/reservations') {
        const body = (await readJson(req)) as { sku?: string; qty?: number };
        const found = body?.sku ? ITEMS[body.sku] : undefined;
        if (!found || !body.qty) return sendJson(res, 400, { error: 'sku and qty are required' });
        if (found.stock < body.qty) return sendJson(res, 409, { error: 'out of stock', sku: body.sku });
        return sendJson(res, 201, {
          reservationId: randomUUID(),
          sku: body.sku,
          qty: body.qty,
          expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
        });
      }
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      sendJson(res, 500, { error: (err as Error).message });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = createInventory();
  stopOnSignals(server);
  await listen(server, Number(process.env.PORT ?? 0), 'inventory');
}
