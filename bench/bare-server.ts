// The baseline of the send benchmark: the same Fastify version answering POST /v1/messages with the
// same JSON body, but with no auth, no validation and no store. What the hub adds on top of this is
// what the benchmark measures. Binds 127.0.0.1 only; prints "listening on URL" to stderr like the hub.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

app.post('/v1/messages', async (req, reply) => {
  const b = req.body as { to?: unknown };
  return reply.code(201).send({ id: randomUUID(), recipients: [b.to], duplicate: false });
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`bare fastify listening on ${url}\n`);

const stop = (): void => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
