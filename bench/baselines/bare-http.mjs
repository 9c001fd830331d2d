// The ceiling: node:http answering a fixed JSON body, no auth at all.
import { createServer } from 'node:http';

const body = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000',
  email: 'bare@example.com',
});
createServer((request, response) => {
  response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  response.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
// A normal exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
