import { createServer } from 'node:http';

// The baseline: a bare node:http server answering every request with a fixed JSON body
// (draining request bodies first), i.e. the ceiling of any Node HTTP server on this machine.
const body = JSON.stringify({ sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 8118, currency: 'EUR', stock: 100000 });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
