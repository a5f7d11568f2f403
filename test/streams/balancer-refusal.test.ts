// A stream behind a load balancer: when it reconnects at a moment the balancer has no api process
// in its rotation, the upgrade is answered 503 (or 502/504) by the balancer itself. The client
// library must treat that like a dropped connection and keep trying, not end the stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { startProxy } from '../support/tcp-proxy.js';
import { send, startStreamApp } from './clients.js';

const NO_SERVER = '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';

describe('stream reconnect through a balancer', () => {
  it('keeps reconnecting after 503 and 502 answers to the upgrade, then resumes', { timeout: 30_000 }, async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-1');
    const receiver = await h.addAgent('Agent-2');
    const proxy = await startProxy('127.0.0.1', Number(new URL(base).port));
    const statuses: string[] = [];
    const stream = new HubStream({ baseUrl: `http://127.0.0.1:${proxy.port}`, token: receiver, onStatus: (s, detail) => statuses.push(`${s} ${detail}`) });
    await stream.connect();
    t.after(async () => {
      stream.close();
      await proxy.close();
    });
    const events = stream[Symbol.asyncIterator]();

    proxy.answerNext(1, `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: ${NO_SERVER.length}\r\nconnection: close\r\n\r\n${NO_SERVER}`);
    proxy.answerNext(1, 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    proxy.cut();
    const id = await send(base, sender, { to: 'Agent-2', body: 'sent while the stream was away' });

    const next = await Promise.race([events.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no delivery within 10 s; ${statuses.join('; ')}`)), 10_000))]);
    assert.equal(stream.error, null, 'the stream did not end');
    assert.equal(next.done, false);
    assert.equal(next.value.type, 'delivery');
    assert.equal(next.value.type === 'delivery' ? next.value.message.id : '', id);
    assert.ok(statuses.filter((s) => s.startsWith('reconnecting')).length >= 2, statuses.join('; '));
  });
});
