import { configTable, ErrorCodes, loadConfig, NextActError } from '../src';

describe('loadConfig', () => {
  it('gives documented defaults that keep everything on loopback', () => {
    const config = loadConfig({});
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(config.schemaRegistryUrl).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.httpHost).toBe('127.0.0.1');
    expect(config.clickhouseUrl).toBeUndefined();
    expect(config.gatewayToken).toBeUndefined();
    expect(config.partitions).toBe(6);
  });

  it('parses lists, numbers and booleans', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', NEXTACT_PARTITIONS: '12', KAFKA_SSL: 'true', CLICKHOUSE_URL: 'http://ch:8123/' });
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(config.partitions).toBe(12);
    expect(config.kafkaSsl).toBe(true);
    expect(config.clickhouseUrl).toBe('http://ch:8123');
  });

  it('names every invalid variable and the expected form', () => {
    let error: unknown;
    try {
      loadConfig({ KAFKA_BROKERS: 'nohostport', GATEWAY_PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NextActError);
    const e = error as NextActError;
    expect(e.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(e.message).toContain('KAFKA_BROKERS="nohostport" is invalid');
    expect(e.message).toContain('expected comma-separated host:port list');
    expect(e.message).toContain('GATEWAY_PORT="70000" is invalid: out of range 0..65535');
    expect(e.message).toContain('LOG_LEVEL="loud"');
  });

  it('never echoes secrets', () => {
    expect(() => loadConfig({ GATEWAY_AUTH_TOKEN: 'short' })).toThrow(/GATEWAY_AUTH_TOKEN=\(hidden\) is invalid/);
  });

  it('requires SASL credentials with a mechanism', () => {
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required/);
  });

  it('renders a table row per setting', () => {
    const table = configTable();
    expect(table).toContain('| `KAFKA_BROKERS` | `127.0.0.1:9092` |');
    expect(table.split('\n').length).toBeGreaterThan(20);
  });
});
