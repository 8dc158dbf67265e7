// `node --import tsx --import ./test/kit/kit-from-source.mjs examples/orders-fastify/server.js`: the example
// imports `@warden/resource-server` as a user's service does; in this repository that name means the
// package's TypeScript sources (before `npm install` links the workspace, and without a dist/ build).
import { register } from 'node:module';

register(new URL('./kit-from-source-hooks.mjs', import.meta.url));
