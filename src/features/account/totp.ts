// otplib behind a module of our own, imported on demand by mfa.ts: a static named import from the
// CommonJS package, which node and the bundle (scripts/bundle.mjs) resolve alike (a dynamic import of
// the package itself has named exports in node only).
export { authenticator } from 'otplib';
