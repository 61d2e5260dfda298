// The end-to-end harness's public API: what tests, the benchmark and the demo import.
export * from './fake-service-catalog';
export * from './lifecycle-driver';
