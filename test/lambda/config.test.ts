/**
 * The handler's timing as a container reads it from its environment: the construct's values, or the contract's defaults.
 */
import { HANDLER_TIMING } from '../../lib/contract';

/** The config module as a container started with `env` would load it. */
function configWith(env: Record<string, string | undefined>): typeof import('../../lambda/config') {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    let config: typeof import('../../lambda/config') | undefined;
    jest.isolateModules(() => {
      config = jest.requireActual<typeof import('../../lambda/config')>('../../lambda/config');
    });
    return config as typeof import('../../lambda/config');
  } finally {
    process.env = saved;
  }
}

const unset = Object.fromEntries(Object.values(HANDLER_TIMING).map(({ env }) => [env, undefined]));

test('with nothing set, every value is the contract default', () => {
  const { timing } = configWith(unset);
  for (const [key, { default: fallback }] of Object.entries(HANDLER_TIMING)) expect(timing[key as keyof typeof timing]).toBe(fallback);
});

test('the values the construct sets are read as numbers, zero included', () => {
  const { timing } = configWith({ ...unset, FAST_PATH_WINDOW_MS: '2500', POLL_INTERVAL_MS: '0', TOTAL_TIMEOUT_MS: '1800000' });
  expect(timing).toMatchObject({ fastPathWindowMs: 2500, pollIntervalMs: 0, totalTimeoutMs: 1_800_000, searchAttempts: 5 });
});

test.each([[''], ['soon'], ['-1'], ['Infinity']])('a value of %j, which no construct writes, falls back to the default', (raw) => {
  expect(configWith({ ...unset, POLL_INTERVAL_MS: raw }).timing.pollIntervalMs).toBe(HANDLER_TIMING.pollIntervalMs.default);
});

test('the timing cannot be changed after load', () => {
  const { timing } = configWith(unset);
  expect(Object.isFrozen(timing)).toBe(true);
});
