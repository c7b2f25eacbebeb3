// Built by scripts/build/lazy-modules.ts: oauth4webapi as a module of its own, loaded on first use.
export * from 'oauth4webapi';
