import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PORT_OFFSETS,
  SandboxConfigError,
  defaultSandboxConfig,
  parseSandboxConfig,
  portOf,
} from '../../../sandbox/config';
import { configFromArgs } from '../../../sandbox/cli-config';

describe('sandbox config', () => {
  test('defaults: two regions, asynchronous replication, Kafka 3.x, the critical topics', () => {
    const config = defaultSandboxConfig('/repo');
    expect(config.rootDir).toBe('/repo/.sandbox/default');
    expect(config.regions).toEqual({ primary: 'us-east-1', secondary: 'us-west-2' });
    expect(config.postgres.synchronous).toBe(false);
    expect(config.kafka.version).toMatch(/^3\./);
    expect(config.criticalTopics).toEqual(['orders', 'fills', 'risk_events']);
  });

  test('every server gets its own port from the base', () => {
    const config = defaultSandboxConfig('/repo', 'x', { portBase: 30000 });
    const ports = (Object.keys(PORT_OFFSETS) as (keyof typeof PORT_OFFSETS)[]).map((name) =>
      portOf(config, name),
    );
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.min(...ports)).toBe(30000);
  });

  test.each([
    [{ portBase: 80 }, /portBase/],
    [{ regions: { primary: 'us-east-1', secondary: 'us-east-1' } }, /regions.*different regions/],
    [
      { regions: { primary: 'mars', secondary: 'us-west-2' } },
      /regions\.primary: must look like an AWS region/,
    ],
    [{ kafka: { version: '4.0.0' } }, /kafka\.version: must be a Kafka 3\.x version/],
    [{ postgres: { synchronous: 'yes' } }, /postgres\.synchronous/],
    [{ surprise: true }, /surprise|Unrecognized/],
  ])('a bad value is rejected with the field named: %j', (override, message) => {
    expect(() => parseSandboxConfig({ rootDir: '/r', cacheDir: '/c', ...override })).toThrow(
      SandboxConfigError,
    );
    expect(() => parseSandboxConfig({ rootDir: '/r', cacheDir: '/c', ...override })).toThrow(message);
  });

  test('the CLI reads --port-base and --sync, and a config file that is not JSON is named', () => {
    const config = configFromArgs({ name: 'cli', 'port-base': '31000', sync: true });
    expect(config.portBase).toBe(31000);
    expect(config.postgres.synchronous).toBe(true);
    expect(() => configFromArgs({ 'port-base': 'abc' })).toThrow(/--port-base must be an integer, got 'abc'/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tp-cfg-')), 'bad.json');
    fs.writeFileSync(file, '{ not json');
    expect(() => configFromArgs({ config: file })).toThrow(/bad\.json is not valid JSON/);
    fs.writeFileSync(file, JSON.stringify({ portBase: 'high' }));
    expect(() => configFromArgs({ config: file })).toThrow(/sandbox config .*bad\.json:\n {2}- portBase/);
  });
});
