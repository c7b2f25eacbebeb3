// Built by scripts/build/lazy-modules.ts: @simplewebauthn/server as a module of its own, loaded on first use.
export * from '@simplewebauthn/server';
