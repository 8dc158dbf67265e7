import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { lazySerializers } from '../../src/platform/serialization.js';

describe('response serializers (compiled on first use)', () => {
  it('compiles a route’s serializer on its first answer, not at start, and still answers only the schema’s fields', async () => {
    const app = Fastify({ schemaController: lazySerializers() });
    app.get('/ok', { schema: { response: { 200: { type: 'object', properties: { name: { type: 'string' } } } } } }, async () => ({
      name: 'n',
      password_hash: 'must not leave',
    }));
    // A schema fast-json-stringify cannot compile: an eager compiler fails the start with it.
    app.get('/never-called', { schema: { response: { 200: { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } } } } }, async () => ({}));
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/ok' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { name: 'n' });
    assert.equal((await app.inject({ method: 'GET', url: '/ok' })).body, '{"name":"n"}');
    await app.close();
  });
});
