// A small app that is not Reprise, for the end-to-end tests on the real node: one file, three
// roles (SHOP_ROLE), plain node:http so nothing of Reprise is in it.
//   inventory  GET /stock/:sku -> {"sku","stock"}
//   orders     GET /orders/:id -> asks inventory (through HTTP_PROXY when set, as most HTTP
//              clients do) and answers {"id","sku","stock","status"}; the image built with
//              SHOP_VARIANT=changed answers another status (the "broken build")
//   client     sends SHOP_COUNT GETs to SHOP_TARGET, prints {"requests","failures","statuses"}
import http from 'node:http';

const env = process.env;
const port = Number(env.PORT ?? 8080);

function get(url, { viaProxy }) {
  const target = new URL(url);
  const proxy = viaProxy && (env.HTTP_PROXY || env.http_proxy);
  const via = proxy ? new URL(proxy) : target;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: via.hostname,
        port: via.port || 80,
        path: proxy ? target.href : target.pathname + target.search,
        headers: { host: target.host, accept: 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function serve(handler) {
  http
    .createServer((req, res) => {
      handler(req)
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })
        .catch((err) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(err.message) }));
        });
    })
    .listen(port, '0.0.0.0', () =>
      console.log(JSON.stringify({ event: 'ready', role: env.SHOP_ROLE, port })),
    );
}

const inventory = async (req) => {
  const sku = /^\/stock\/([\w-]+)$/.exec(req.url)?.[1];
  return sku
    ? { status: 200, body: { sku, stock: sku.length * 3 } }
    : { status: 404, body: { error: 'no such path' } };
};

const orders = async (req) => {
  const id = /^\/orders\/(\d+)$/.exec(req.url)?.[1];
  if (!id) return { status: 404, body: { error: 'no such path' } };
  const sku = `sku-${id}`;
  const stock = await get(`${env.INVENTORY_URL}/stock/${sku}`, { viaProxy: true });
  if (stock.status !== 200) return { status: 502, body: { error: `inventory answered ${stock.status}` } };
  const status = env.SHOP_VARIANT === 'changed' ? 'backordered' : 'confirmed';
  return { status: 200, body: { id: Number(id), sku, stock: JSON.parse(stock.body).stock, status } };
};

async function client() {
  const count = Number(env.SHOP_COUNT ?? 5);
  const statuses = {};
  let failures = 0;
  for (let i = 1; i <= count; i++) {
    try {
      const { status } = await get(`${env.SHOP_TARGET}/orders/${i}`, { viaProxy: false });
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200) failures++;
    } catch {
      failures++;
    }
  }
  console.log(JSON.stringify({ requests: count, failures, statuses }));
  process.exit(failures === 0 ? 0 : 1);
}

const roles = { inventory: () => serve(inventory), orders: () => serve(orders), client };
const role = roles[env.SHOP_ROLE];
if (!role) {
  console.error(`SHOP_ROLE: expected one of ${Object.keys(roles).join(', ')}, got ${env.SHOP_ROLE}`);
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
await role();
