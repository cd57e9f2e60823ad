// Preloaded by bench/ab.ts --gc-every=<s> (node --expose-gc --import <this file's URL>?every=<ms>):
// a full collection every <ms>, so the servers compared have been through the same major GCs.
const every = Number(new URL(import.meta.url).searchParams.get('every'));
if (every > 0 && typeof globalThis.gc === 'function') setInterval(() => globalThis.gc(), every).unref();
