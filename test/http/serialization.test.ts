import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { DeferredCompiles, lazySerializers } from '../../src/platform/serialization.js';
import { validatorCompiler } from '../../src/platform/validation.js';
import { createTestApp } from '../support/app.js';

describe('route schemas (compiled on first use)', () => {
  it('compiles a route’s serializer on its first answer, not at start, and still answers only the schema’s fields', async () => {
    const deferred = new DeferredCompiles();
    const app = Fastify({ schemaController: lazySerializers(deferred) });
    app.setValidatorCompiler(validatorCompiler(deferred));
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
    // compileAll reaches the schema no request has used, and fails on it.
    assert.throws(() => deferred.compileAll(), /missing|resolve/i);
    await app.close();
  });

  it('compileAll fails on a broken body schema of a route never called', async () => {
    const deferred = new DeferredCompiles();
    const app = Fastify({ schemaController: lazySerializers(deferred) });
    app.setValidatorCompiler(validatorCompiler(deferred));
    app.post('/never-called', { schema: { body: { type: 'object', properties: { a: { type: 'no-such-type' } } } } }, async () => ({}));
    await app.ready();
    assert.throws(() => deferred.compileAll(), /type/);
    await app.close();
  });

  it('every schema of every route of Warden compiles (what a request would otherwise find out first)', async () => {
    const t = await createTestApp();
    try {
      const compiled = t.app.deferredCompiles.compileAll();
      assert.ok(compiled > 100, `only ${compiled} schemas: the routes are not all there`);
      assert.equal(t.app.deferredCompiles.compileAll(), 0, 'each is compiled once');
      // The compiled validators and serializers are the ones requests use.
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
