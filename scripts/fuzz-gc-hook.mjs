// Preloaded into the fuzzed server (run with --expose-gc): SIGUSR2 runs a full GC, so the fuzz
// script can read a resident size that is not just garbage not yet collected.
process.on('SIGUSR2', () => globalThis.gc?.());
